-- Vocabulary mapping rate per (source file, target domain): how many clinical rows reached
-- a standard concept (concept_id <> 0). target_domain is the domain of the CDM table the
-- rows land in (cdm_table); a drug allergy counts as mapped when its drug was mapped.
-- Counted per event (a code mapped to two standard concepts counts twice), from the routing
-- of each code (int__code_map) times its rows.
select
    event_source as source_table,
    case cdm_table
        when 'condition_occurrence' then 'Condition'
        when 'drug_exposure' then 'Drug'
        when 'procedure_occurrence' then 'Procedure'
        when 'measurement' then 'Measurement'
        when 'observation' then 'Observation'
        when 'device_exposure' then 'Device'
        else cdm_table
    end as target_domain,
    cdm_table,
    cast(sum(source_rows) as bigint) as source_rows,
    cast(sum(case when mapped_concept_id <> 0 then source_rows else 0 end) as bigint) as mapped_rows,
    cast(sum(case when mapped_concept_id <> 0 then source_rows else 0 end) as {{ type_cdm_float() }})
    / cast(sum(source_rows) as {{ type_cdm_float() }}) as mapping_rate
from {{ ref('int__code_map') }}
group by event_source, cdm_table
