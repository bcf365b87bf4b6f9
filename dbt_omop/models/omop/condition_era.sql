-- OMOP CDM v5.4 CONDITION_ERA (standard OHDSI algorithm): condition occurrences of a
-- person with the same standard concept (concept 0 excluded) are merged while the next
-- one starts within var('condition_era_gap_days') (30) days of the latest end so far.
-- A missing end date counts as start + 1 day. Era end: the latest end of its occurrences.
-- Id: surrogate_id('condition_era', person, concept, era start).
with occurrences as (
    select
        person_id,
        condition_concept_id,
        condition_occurrence_id,
        cast(condition_start_date as timestamp) as start_date,
        cast(coalesce(condition_end_date, {{ dbt.dateadd('day', 1, 'condition_start_date') }}) as timestamp) as end_date
    from {{ ref('condition_occurrence') }}
    where condition_concept_id <> 0
),

flagged as (
    select
        occurrences.*,
        case
            when start_date <= {{ dbt.dateadd('day', var('condition_era_gap_days'), 'max(end_date) over (partition by person_id, condition_concept_id order by start_date, condition_occurrence_id rows between unbounded preceding and 1 preceding)') }}
                then 0
            else 1
        end as starts_new_era
    from occurrences
),

numbered as (
    select
        flagged.*,
        sum(starts_new_era) over (
            partition by person_id, condition_concept_id
            order by start_date, condition_occurrence_id
            rows between unbounded preceding and current row
        ) as era_number
    from flagged
),

eras as (
    select
        person_id,
        condition_concept_id,
        min(start_date) as era_start_date,
        max(end_date) as era_end_date,
        count(*) as occurrence_count
    from numbered
    group by person_id, condition_concept_id, era_number
)

select
    cast({{ surrogate_id("'condition_era'", 'person_id', 'condition_concept_id', 'era_start_date') }} as bigint) as condition_era_id,
    cast(person_id as bigint) as person_id,
    cast(condition_concept_id as integer) as condition_concept_id,
    cast(era_start_date as timestamp) as condition_era_start_date,
    cast(era_end_date as timestamp) as condition_era_end_date,
    cast(occurrence_count as integer) as condition_occurrence_count
from eras
