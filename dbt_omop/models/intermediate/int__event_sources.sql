{{ config(materialized='view') }}
-- Every clinical source row in one shape, before vocabulary mapping.
-- default_cdm_table is where the row lands when its code has no standard concept. The same
-- defaults are declared in event_source_default_tables() (macros/clinical_events.sql), which
-- the event tables read; the test event_source_defaults_declared checks that they agree.
with conditions as (
    select
        'conditions' as event_source,
        extract_id,
        source_line,
        patient_id,
        encounter_id,
        condition_start_date as start_date,
        cast(condition_start_date as timestamp) as start_datetime,
        condition_stop_date as end_date,
        cast(condition_stop_date as timestamp) as end_datetime,
        condition_code as source_code,
        condition_vocabulary_id as source_vocabulary_id,
        cast(null as {{ type_cdm_float() }}) as value_as_number,
        cast(null as varchar) as value_as_string,
        cast(null as varchar) as value_source_value,
        cast(null as varchar) as unit_source_value,
        'condition_occurrence' as default_cdm_table
    from {{ ref('stg_synthea__conditions') }}
),

medications as (
    select
        'medications' as event_source,
        extract_id,
        source_line,
        patient_id,
        encounter_id,
        cast(medication_start_datetime as date) as start_date,
        medication_start_datetime as start_datetime,
        cast(medication_stop_datetime as date) as end_date,
        medication_stop_datetime as end_datetime,
        medication_code as source_code,
        medication_vocabulary_id as source_vocabulary_id,
        cast(null as {{ type_cdm_float() }}) as value_as_number,
        cast(null as varchar) as value_as_string,
        cast(null as varchar) as value_source_value,
        cast(null as varchar) as unit_source_value,
        'drug_exposure' as default_cdm_table
    from {{ ref('stg_synthea__medications') }}
),

immunizations as (
    select
        'immunizations' as event_source,
        extract_id,
        source_line,
        patient_id,
        encounter_id,
        cast(immunization_datetime as date) as start_date,
        immunization_datetime as start_datetime,
        cast(immunization_datetime as date) as end_date,
        immunization_datetime as end_datetime,
        immunization_code as source_code,
        immunization_vocabulary_id as source_vocabulary_id,
        cast(null as {{ type_cdm_float() }}) as value_as_number,
        cast(null as varchar) as value_as_string,
        cast(null as varchar) as value_source_value,
        cast(null as varchar) as unit_source_value,
        'drug_exposure' as default_cdm_table
    from {{ ref('stg_synthea__immunizations') }}
),

observations as (
    select
        'observations' as event_source,
        extract_id,
        source_line,
        patient_id,
        encounter_id,
        cast(observation_datetime as date) as start_date,
        observation_datetime as start_datetime,
        cast(null as date) as end_date,
        cast(null as timestamp) as end_datetime,
        observation_code as source_code,
        observation_vocabulary_id as source_vocabulary_id,
        observation_value_as_number as value_as_number,
        observation_value_as_string as value_as_string,
        observation_value as value_source_value,
        observation_units as unit_source_value,
        case when observation_is_numeric then 'measurement' else 'observation' end as default_cdm_table
    from {{ ref('stg_synthea__observations') }}
),

procedures as (
    select
        'procedures' as event_source,
        extract_id,
        source_line,
        patient_id,
        encounter_id,
        cast(procedure_start_datetime as date) as start_date,
        procedure_start_datetime as start_datetime,
        cast(procedure_stop_datetime as date) as end_date,
        procedure_stop_datetime as end_datetime,
        procedure_code as source_code,
        procedure_vocabulary_id as source_vocabulary_id,
        cast(null as {{ type_cdm_float() }}) as value_as_number,
        cast(null as varchar) as value_as_string,
        cast(null as varchar) as value_source_value,
        cast(null as varchar) as unit_source_value,
        'procedure_occurrence' as default_cdm_table
    from {{ ref('stg_synthea__procedures') }}
),

allergies as (
    select
        'allergies' as event_source,
        extract_id,
        source_line,
        patient_id,
        encounter_id,
        allergy_start_date as start_date,
        cast(allergy_start_date as timestamp) as start_datetime,
        allergy_stop_date as end_date,
        cast(allergy_stop_date as timestamp) as end_datetime,
        allergy_code as source_code,
        allergy_vocabulary_id as source_vocabulary_id,
        cast(null as {{ type_cdm_float() }}) as value_as_number,
        cast(null as varchar) as value_as_string,
        cast(null as varchar) as value_source_value,
        cast(null as varchar) as unit_source_value,
        'observation' as default_cdm_table
    from {{ ref('stg_synthea__allergies') }}
),

devices as (
    select
        'devices' as event_source,
        extract_id,
        source_line,
        patient_id,
        encounter_id,
        cast(device_start_datetime as date) as start_date,
        device_start_datetime as start_datetime,
        cast(device_stop_datetime as date) as end_date,
        device_stop_datetime as end_datetime,
        device_code as source_code,
        device_vocabulary_id as source_vocabulary_id,
        cast(null as {{ type_cdm_float() }}) as value_as_number,
        cast(null as varchar) as value_as_string,
        cast(null as varchar) as value_source_value,
        cast(null as varchar) as unit_source_value,
        'device_exposure' as default_cdm_table
    from {{ ref('stg_synthea__devices') }}
)

select * from conditions
union all
select * from medications
union all
select * from immunizations
union all
select * from observations
union all
select * from procedures
union all
select * from allergies
union all
select * from devices
