-- OMOP CDM v5.4 OBSERVATION_PERIOD: one period per person, from the first to the last
-- date of any visit or clinical event (start or end) of that person, read from the CDM
-- event tables themselves (not the intermediate), so the period covers exactly what the CDM holds.
with person_dates as (
    select
        person_id,
        visit_start_date as event_date
    from {{ ref('int__visits') }}
    union all
    select
        person_id,
        visit_end_date
    from {{ ref('int__visits') }}
    union all
    select
        person_id,
        condition_start_date
    from {{ ref('condition_occurrence') }}
    union all
    select
        person_id,
        condition_end_date
    from {{ ref('condition_occurrence') }}
    union all
    select
        person_id,
        drug_exposure_start_date
    from {{ ref('drug_exposure') }}
    union all
    select
        person_id,
        drug_exposure_end_date
    from {{ ref('drug_exposure') }}
    union all
    select
        person_id,
        procedure_date
    from {{ ref('procedure_occurrence') }}
    union all
    select
        person_id,
        procedure_end_date
    from {{ ref('procedure_occurrence') }}
    union all
    select
        person_id,
        device_exposure_start_date
    from {{ ref('device_exposure') }}
    union all
    select
        person_id,
        device_exposure_end_date
    from {{ ref('device_exposure') }}
    union all
    select
        person_id,
        measurement_date
    from {{ ref('measurement') }}
    union all
    select
        person_id,
        observation_date
    from {{ ref('observation') }}
),

periods as (
    select
        person_id,
        min(event_date) as start_date,
        max(event_date) as end_date
    from person_dates
    where event_date is not null
    group by person_id
)

select
    cast({{ surrogate_id("'observation_period'", 'periods.person_id') }} as bigint) as observation_period_id,
    cast(periods.person_id as bigint) as person_id,
    cast(periods.start_date as date) as observation_period_start_date,
    cast(periods.end_date as date) as observation_period_end_date,
    cast({{ var('ehr_type_concept_id') }} as integer) as period_type_concept_id
from periods
inner join {{ ref('person') }} as person
    on periods.person_id = person.person_id
