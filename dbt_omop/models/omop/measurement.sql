-- OMOP CDM v5.4 MEASUREMENT: events whose concept is in the Measurement domain (labs,
-- vitals, measurement-like procedures), plus unmapped numeric observations.
-- unit_concept_id: the UCUM concept whose concept_code is the recorded unit (0 if unknown).
select
    cast(event_id as bigint) as measurement_id,
    cast(person_id as bigint) as person_id,
    cast(concept_id as integer) as measurement_concept_id,
    cast(start_date as date) as measurement_date,
    cast(start_datetime as timestamp) as measurement_datetime,
    cast(null as varchar(10)) as measurement_time,
    cast({{ var('ehr_type_concept_id') }} as integer) as measurement_type_concept_id,
    cast(null as integer) as operator_concept_id,
    cast(value_as_number as {{ type_cdm_float() }}) as value_as_number,
    cast(value_as_concept_id as integer) as value_as_concept_id,
    cast(unit_concept_id as integer) as unit_concept_id,
    cast(null as {{ type_cdm_float() }}) as range_low,
    cast(null as {{ type_cdm_float() }}) as range_high,
    cast(provider_id as bigint) as provider_id,
    cast(visit_occurrence_id as bigint) as visit_occurrence_id,
    cast(visit_detail_id as bigint) as visit_detail_id,
    cast(source_code as varchar(50)) as measurement_source_value,
    cast(source_concept_id as integer) as measurement_source_concept_id,
    cast(unit_source_value as varchar(50)) as unit_source_value,
    cast(unit_concept_id as integer) as unit_source_concept_id,
    cast(substr(value_source_value, 1, 50) as varchar(50)) as value_source_value,
    cast(null as bigint) as measurement_event_id,
    cast(null as integer) as meas_event_field_concept_id
from (
    {{ clinical_events('measurement') }}
) as events
