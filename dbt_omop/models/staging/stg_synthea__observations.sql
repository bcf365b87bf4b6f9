-- Observations (LOINC): VALUE is parsed to a number when TYPE says numeric
-- (or, for exports without TYPE, when it parses); otherwise it stays text.
with typed as (
    select
        *,
        nullif(lower(trim(type)), '') as value_type,
        {{ safe_cast_double('value') }} as parsed_value
    from {{ source('raw', 'observations') }}
)

select
    patient as patient_id,
    encounter as encounter_id,
    date as observation_datetime,
    nullif(trim(category), '') as observation_category,
    'LOINC' as observation_vocabulary_id,
    trim(code) as observation_code,
    description as observation_description,
    value as observation_value,
    case
        when value_type = 'numeric' or value_type is null then parsed_value
    end as observation_value_as_number,
    case
        when value_type = 'numeric' or (value_type is null and parsed_value is not null) then null
        else value
    end as observation_value_as_string,
    (value_type = 'numeric' or (value_type is null and parsed_value is not null)) as observation_is_numeric,
    -- Synthea writes the text 'null' as the unit of some rows (e.g. cause of death 69453-9)
    case when lower(trim(units)) in ('', 'null') then null else trim(units) end as observation_units,
    value_type as observation_value_type,
    extract_id,
    source_line
from typed
