-- OMOP CDM v5.4 DEATH: one row per person with a recorded death date (cause unknown).
select
    cast(person.person_id as bigint) as person_id,
    cast(patients.death_date as date) as death_date,
    cast(patients.death_date as timestamp) as death_datetime,
    cast({{ var('ehr_type_concept_id') }} as integer) as death_type_concept_id,
    cast(null as integer) as cause_concept_id,
    cast(null as varchar(50)) as cause_source_value,
    cast(null as integer) as cause_source_concept_id
from {{ ref('stg_synthea__patients') }} as patients
inner join {{ ref('person') }} as person
    on patients.person_id = person.person_id
where patients.death_date is not null
