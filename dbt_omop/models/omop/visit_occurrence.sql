-- OMOP CDM v5.4 VISIT_OCCURRENCE: one visit per encounter (see int__visits).
-- preceding_visit_occurrence_id: the person's previous visit by start (ties by id).
select
    cast(visit_occurrence_id as bigint) as visit_occurrence_id,
    cast(person_id as bigint) as person_id,
    cast(visit_concept_id as integer) as visit_concept_id,
    cast(visit_start_date as date) as visit_start_date,
    cast(visit_start_datetime as timestamp) as visit_start_datetime,
    cast(visit_end_date as date) as visit_end_date,
    cast(visit_end_datetime as timestamp) as visit_end_datetime,
    cast({{ var('ehr_type_concept_id') }} as integer) as visit_type_concept_id,
    cast(provider_id as bigint) as provider_id,
    cast(care_site_id as bigint) as care_site_id,
    cast(visit_source_value as varchar(50)) as visit_source_value,
    cast(0 as integer) as visit_source_concept_id,
    cast(null as integer) as admitted_from_concept_id,
    cast(null as varchar(50)) as admitted_from_source_value,
    cast(null as integer) as discharged_to_concept_id,
    cast(null as varchar(50)) as discharged_to_source_value,
    cast(
        lag(visit_occurrence_id) over (
            partition by person_id
            order by visit_start_datetime, visit_occurrence_id
        ) as bigint
    ) as preceding_visit_occurrence_id
from {{ ref('int__visits') }}
