-- The visit spine: one visit per (deduplicated) encounter of a known patient.
-- inpatient -> 9201 Inpatient Visit (multi-day: ends at the encounter stop);
-- emergency / urgentcare -> 9203 Emergency Room Visit; everything else -> 9202 Outpatient.
with encounters as (
    select
        encounters.*,
        case
            when encounters.encounter_stop_datetime is null
                or encounters.encounter_stop_datetime < encounters.encounter_start_datetime
                then encounters.encounter_start_datetime
            else encounters.encounter_stop_datetime
        end as encounter_end_datetime
    from {{ ref('stg_synthea__encounters') }} as encounters
    where encounters.encounter_start_datetime is not null
)

select
    {{ surrogate_id('encounters.encounter_id') }} as visit_occurrence_id,
    encounters.encounter_id,
    {{ surrogate_id('encounters.patient_id') }} as person_id,
    encounters.patient_id,
    case
        when encounters.encounter_class = 'inpatient' then 9201
        when encounters.encounter_class in ('emergency', 'urgentcare') then 9203
        else 9202
    end as visit_concept_id,
    cast(encounters.encounter_start_datetime as date) as visit_start_date,
    encounters.encounter_start_datetime as visit_start_datetime,
    cast(encounters.encounter_end_datetime as date) as visit_end_date,
    encounters.encounter_end_datetime as visit_end_datetime,
    encounters.encounter_class as visit_source_value,
    organizations.organization_id,
    case
        when organizations.organization_id is not null
            then {{ surrogate_id('organizations.organization_id') }}
    end as care_site_id,
    case
        when providers.provider_id is not null
            then {{ surrogate_id('providers.provider_id') }}
    end as provider_id,
    encounters.extract_id,
    encounters.source_line
from encounters
inner join {{ ref('stg_synthea__patients') }} as patients
    on patients.patient_id = encounters.patient_id
left join {{ ref('stg_synthea__organizations') }} as organizations
    on organizations.organization_id = encounters.organization_id
left join {{ ref('stg_synthea__providers') }} as providers
    on providers.provider_id = encounters.provider_id
