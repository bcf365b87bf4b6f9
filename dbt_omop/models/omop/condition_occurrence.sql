-- OMOP CDM v5.4 CONDITION_OCCURRENCE: events whose concept is in the Condition domain,
-- plus unmapped diagnoses (concept 0, source value kept).
select
    cast(event_id as bigint) as condition_occurrence_id,
    cast(person_id as bigint) as person_id,
    cast(concept_id as integer) as condition_concept_id,
    cast(start_date as date) as condition_start_date,
    cast(start_datetime as timestamp) as condition_start_datetime,
    cast(end_date as date) as condition_end_date,
    cast(end_datetime as timestamp) as condition_end_datetime,
    cast({{ var('ehr_type_concept_id') }} as integer) as condition_type_concept_id,
    cast(null as integer) as condition_status_concept_id,
    cast(null as varchar(20)) as stop_reason,
    cast(provider_id as bigint) as provider_id,
    cast(visit_occurrence_id as bigint) as visit_occurrence_id,
    cast(visit_detail_id as bigint) as visit_detail_id,
    cast(source_code as varchar(50)) as condition_source_value,
    cast(source_concept_id as integer) as condition_source_concept_id,
    cast(null as varchar(50)) as condition_status_source_value
from (
    {{ clinical_events('condition_occurrence') }}
) as events
