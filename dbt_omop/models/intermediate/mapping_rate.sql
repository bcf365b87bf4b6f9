-- Vocabulary mapping rate per (source file, target domain): how many clinical rows reached
-- a standard concept (concept_id <> 0). target_domain is the domain of the CDM table the
-- rows land in (cdm_table); a drug allergy counts as mapped when its drug was mapped.
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
    count(*) as source_rows,
    sum(case when mapped_concept_id <> 0 then 1 else 0 end) as mapped_rows,
    cast(sum(case when mapped_concept_id <> 0 then 1 else 0 end) as {{ type_cdm_float() }})
        / count(*) as mapping_rate
from {{ ref('int__events') }}
group by event_source, cdm_table
