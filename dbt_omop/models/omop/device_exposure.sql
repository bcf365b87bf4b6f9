-- OMOP CDM v5.4 DEVICE_EXPOSURE: events whose concept is in the Device domain, plus
-- unmapped devices (concept 0, source value kept). The device UDI is never loaded.
select
    cast(event_id as bigint) as device_exposure_id,
    cast(person_id as bigint) as person_id,
    cast(concept_id as integer) as device_concept_id,
    cast(start_date as date) as device_exposure_start_date,
    cast(start_datetime as timestamp) as device_exposure_start_datetime,
    cast(end_date as date) as device_exposure_end_date,
    cast(end_datetime as timestamp) as device_exposure_end_datetime,
    cast({{ var('ehr_type_concept_id') }} as integer) as device_type_concept_id,
    cast(null as varchar(255)) as unique_device_id,
    cast(null as varchar(255)) as production_id,
    cast(null as integer) as quantity,
    cast(provider_id as bigint) as provider_id,
    cast(visit_occurrence_id as bigint) as visit_occurrence_id,
    cast(visit_detail_id as bigint) as visit_detail_id,
    cast(source_code as varchar(50)) as device_source_value,
    cast(source_concept_id as integer) as device_source_concept_id,
    cast(null as integer) as unit_concept_id,
    cast(null as varchar(50)) as unit_source_value,
    cast(null as integer) as unit_source_concept_id
from (
    {{ clinical_events('device_exposure') }}
) as events
