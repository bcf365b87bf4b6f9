-- OMOP CDM v5.4 PERSON: one row per patient (latest delivery wins, see staging).
-- care_site_id: the organization of most of the patient's visits (ties: lowest organization id).
with care_site_visits as (
    select
        person_id,
        care_site_id,
        row_number() over (
            partition by person_id
            order by count(*) desc, min({{ binary_collation("organization_id") }})
        ) as care_site_rank
    from {{ ref('int__visits') }}
    where care_site_id is not null
    group by person_id, care_site_id
),

demographics as (
    select
        source_vocabulary_id,
        source_code,
        target_concept_id
    from {{ ref('source_to_concept_map') }}
    where invalid_reason is null
)

select
    cast(patients.person_id as bigint) as person_id,
    cast(coalesce(gender.target_concept_id, 0) as integer) as gender_concept_id,
    cast(extract(year from patients.birth_date) as integer) as year_of_birth,
    cast(extract(month from patients.birth_date) as integer) as month_of_birth,
    cast(extract(day from patients.birth_date) as integer) as day_of_birth,
    cast(patients.birth_date as timestamp) as birth_datetime,
    cast(coalesce(race.target_concept_id, 0) as integer) as race_concept_id,
    cast(coalesce(ethnicity.target_concept_id, 0) as integer) as ethnicity_concept_id,
    cast(
        case when patients.state is not null then {{ surrogate_id("'location'", 'patients.state') }} end as bigint
    ) as location_id,
    cast(null as bigint) as provider_id,
    cast(care_site_visits.care_site_id as bigint) as care_site_id,
    -- The 64-hex patient pseudonym: wider than the spec's varchar(50), kept whole for linkage.
    cast(patients.patient_id as varchar) as person_source_value,
    cast(patients.gender as varchar(50)) as gender_source_value,
    cast(0 as integer) as gender_source_concept_id,
    cast(patients.race as varchar(50)) as race_source_value,
    cast(0 as integer) as race_source_concept_id,
    cast(patients.ethnicity as varchar(50)) as ethnicity_source_value,
    cast(0 as integer) as ethnicity_source_concept_id
from {{ ref('stg_synthea__patients') }} as patients
left join demographics as gender
    on
        gender.source_vocabulary_id = 'SYNTHEA_GENDER'
        and patients.gender = gender.source_code
left join demographics as race
    on
        race.source_vocabulary_id = 'SYNTHEA_RACE'
        and patients.race = race.source_code
left join demographics as ethnicity
    on
        ethnicity.source_vocabulary_id = 'SYNTHEA_ETHNICITY'
        and patients.ethnicity = ethnicity.source_code
left join care_site_visits
    on
        patients.person_id = care_site_visits.person_id
        and care_site_visits.care_site_rank = 1
