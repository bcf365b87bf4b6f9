-- OMOP CDM v5.4 DRUG_EXPOSURE: events whose concept is in the Drug domain, plus unmapped
-- medications and immunizations (concept 0, source value kept).
-- drug_exposure_end_date (required) falls back to the start date; verbatim_end_date is the
-- recorded stop date.
select
    cast(event_id as bigint) as drug_exposure_id,
    cast(person_id as bigint) as person_id,
    cast(concept_id as integer) as drug_concept_id,
    cast(start_date as date) as drug_exposure_start_date,
    cast(start_datetime as timestamp) as drug_exposure_start_datetime,
    cast(coalesce(end_date, start_date) as date) as drug_exposure_end_date,
    cast(coalesce(end_datetime, start_datetime) as timestamp) as drug_exposure_end_datetime,
    cast(end_date as date) as verbatim_end_date,
    cast({{ var('ehr_type_concept_id') }} as integer) as drug_type_concept_id,
    cast(null as varchar(20)) as stop_reason,
    cast(null as integer) as refills,
    cast(null as {{ type_cdm_float() }}) as quantity,
    cast(null as integer) as days_supply,
    cast(null as varchar) as sig,
    cast(null as integer) as route_concept_id,
    cast(null as varchar(50)) as lot_number,
    cast(provider_id as bigint) as provider_id,
    cast(visit_occurrence_id as bigint) as visit_occurrence_id,
    cast(visit_detail_id as bigint) as visit_detail_id,
    cast(source_code as varchar(50)) as drug_source_value,
    cast(source_concept_id as integer) as drug_source_concept_id,
    cast(null as varchar(50)) as route_source_value,
    cast(null as varchar(50)) as dose_unit_source_value
from (
    {{ clinical_events('drug_exposure') }}
) as events
