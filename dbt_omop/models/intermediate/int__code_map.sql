-- Every distinct source code of the clinical rows with its standard concept(s) and the CDM
-- table it is routed to: the routing is decided once per code (a few thousand rows), not
-- once per event row (13M at 100k patients); the CDM event tables join it to the rows.
--
-- Key: (event_source, source_code, source_vocabulary_id, default_cdm_table); the default
-- table is part of the key because an unmapped observation lands in measurement when its
-- value is numeric and in observation otherwise. source_rows: rows of the key.
--
-- Domain routing: a row lands in the table of its standard concept's domain (Condition,
-- Drug, Procedure, Measurement, Device, Observation; any other domain -> observation).
-- Unmapped codes (no concept or no valid 'Maps to') keep the row with concept_id 0 and the
-- source value, in the default table of their source file. Allergies never become drug
-- exposures: a drug allergy lands in observation with the drug as value_as_concept_id.
-- A code mapped to several standard concepts has a row per concept (one event each).
with source_keys as (
    select
        event_source,
        source_code,
        source_vocabulary_id,
        default_cdm_table,
        count(*) as source_rows
    from {{ ref('int__event_sources') }}
    where start_date is not null
    group by event_source, source_code, source_vocabulary_id, default_cdm_table
),

mapped as (
    select
        source_keys.*,
        coalesce(standard_map.source_concept_id, 0) as source_concept_id,
        coalesce(standard_map.concept_id, 0) as mapped_concept_id,
        standard_map.target_domain_id
    from source_keys
    left join {{ ref('int__source_to_standard') }} as standard_map
        on
            source_keys.source_code = standard_map.source_code
            and source_keys.source_vocabulary_id = standard_map.source_vocabulary_id
)

select
    mapped.event_source,
    mapped.source_code,
    mapped.source_vocabulary_id,
    mapped.default_cdm_table,
    mapped.source_rows,
    mapped.source_concept_id,
    mapped.mapped_concept_id,
    mapped.target_domain_id,
    case
        when mapped.mapped_concept_id = 0 or mapped.target_domain_id is null
            then mapped.default_cdm_table
        when
            mapped.event_source = 'allergies'
            and mapped.target_domain_id not in ('Condition', 'Observation')
            then 'observation'
        when mapped.target_domain_id = 'Condition' then 'condition_occurrence'
        when mapped.target_domain_id = 'Drug' then 'drug_exposure'
        when mapped.target_domain_id = 'Procedure' then 'procedure_occurrence'
        when mapped.target_domain_id = 'Measurement' then 'measurement'
        when mapped.target_domain_id = 'Device' then 'device_exposure'
        else 'observation'
    end as cdm_table,
    case
        when
            mapped.event_source = 'allergies'
            and mapped.target_domain_id not in ('Condition', 'Observation')
            then 0
        else mapped.mapped_concept_id
    end as concept_id,
    case
        when
            mapped.event_source = 'allergies'
            and mapped.target_domain_id not in ('Condition', 'Observation')
            then mapped.mapped_concept_id
    end as value_as_concept_id
from mapped
