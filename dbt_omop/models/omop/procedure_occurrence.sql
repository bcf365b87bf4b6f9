-- OMOP CDM v5.4 PROCEDURE_OCCURRENCE: events whose concept is in the Procedure domain,
-- plus unmapped procedures (concept 0, source value kept).
select
    cast(event_id as bigint) as procedure_occurrence_id,
    cast(person_id as bigint) as person_id,
    cast(concept_id as integer) as procedure_concept_id,
    cast(start_date as date) as procedure_date,
    cast(start_datetime as timestamp) as procedure_datetime,
    cast(end_date as date) as procedure_end_date,
    cast(end_datetime as timestamp) as procedure_end_datetime,
    cast({{ var('ehr_type_concept_id') }} as integer) as procedure_type_concept_id,
    cast(null as integer) as modifier_concept_id,
    cast(null as integer) as quantity,
    cast(provider_id as bigint) as provider_id,
    cast(visit_occurrence_id as bigint) as visit_occurrence_id,
    cast(visit_detail_id as bigint) as visit_detail_id,
    cast(source_code as varchar(50)) as procedure_source_value,
    cast(source_concept_id as integer) as procedure_source_concept_id,
    cast(null as varchar(50)) as modifier_source_value
from (
    {{ clinical_events('procedure_occurrence') }}
) as events
