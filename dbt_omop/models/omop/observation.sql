-- OMOP CDM v5.4 OBSERVATION: events whose concept is in the Observation domain (or any
-- domain without its own table here), unmapped text observations and allergies.
select
    cast(event_id as bigint) as observation_id,
    cast(person_id as bigint) as person_id,
    cast(concept_id as integer) as observation_concept_id,
    cast(start_date as date) as observation_date,
    cast(start_datetime as timestamp) as observation_datetime,
    cast({{ var('ehr_type_concept_id') }} as integer) as observation_type_concept_id,
    cast(value_as_number as {{ type_cdm_float() }}) as value_as_number,
    cast(substr(value_as_string, 1, 60) as varchar(60)) as value_as_string,
    cast(value_as_concept_id as integer) as value_as_concept_id,
    cast(null as integer) as qualifier_concept_id,
    cast(unit_concept_id as integer) as unit_concept_id,
    cast(provider_id as bigint) as provider_id,
    cast(visit_occurrence_id as bigint) as visit_occurrence_id,
    cast(visit_detail_id as bigint) as visit_detail_id,
    cast(source_code as varchar(50)) as observation_source_value,
    cast(source_concept_id as integer) as observation_source_concept_id,
    cast(unit_source_value as varchar(50)) as unit_source_value,
    cast(null as varchar(50)) as qualifier_source_value,
    cast(substr(value_source_value, 1, 50) as varchar(50)) as value_source_value,
    cast(null as bigint) as observation_event_id,
    cast(null as integer) as obs_event_field_concept_id
from (
    {{ clinical_events('observation') }}
) as events
