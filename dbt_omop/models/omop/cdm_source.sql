-- OMOP CDM v5.4 CDM_SOURCE: one row describing this CDM instance.
-- source_release_date: when the latest extract was loaded (build date if none);
-- cdm_release_date: the build date; vocabulary_version: the 'None' row of VOCABULARY.
with extracts as (
    select max(cast(loaded_at as date)) as last_loaded_date
    from {{ source('raw', 'extract_manifest') }}
),

vocabulary_version as (
    select max(vocabulary_version) as vocabulary_version
    from {{ vocab_relation('vocabulary') }}
    where vocabulary_id = 'None'
)

select
    cast('MLHOps synthetic/Synthea extract' as varchar(255)) as cdm_source_name,
    cast('MLHOps Synthea' as varchar(25)) as cdm_source_abbreviation,
    cast('MLHOps' as varchar(255)) as cdm_holder,
    cast('Pseudonymised synthetic EHR extracts (Synthea) mapped to OMOP CDM v5.4 by dbt_omop.' as varchar)
        as source_description,
    cast(null as varchar(255)) as source_documentation_reference,
    cast('dbt_omop (this repository)' as varchar(255)) as cdm_etl_reference,
    cast(coalesce(extracts.last_loaded_date, current_date) as date) as source_release_date,
    cast(current_date as date) as cdm_release_date,
    cast('v5.4' as varchar(10)) as cdm_version,
    -- 756265: OMOP CDM Version 5.4.0 (vocabulary 'CDM').
    cast(756265 as integer) as cdm_version_concept_id,
    cast(coalesce(vocabulary_version.vocabulary_version, 'unknown') as varchar(20)) as vocabulary_version
from extracts
cross join vocabulary_version
