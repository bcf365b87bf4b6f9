{#-
    Rows of an entity table ranked per natural key, latest delivery first.

    Several extracts may carry the same entity; the row from the most recently loaded
    extract (raw.extract_manifest.loaded_at) wins. Ties (or extracts missing from the
    manifest) are broken by extract_id, then by the later line of the file, so the choice
    never depends on physical row order. Use: `where extract_rank = 1`.
-#}
{% macro ranked_by_latest_extract(source_table, key_column) -%}
    {#- Only keys delivered more than once need ranking: the window sorts those rows alone. -#}
    with repeated_keys as (
        select {{ key_column }} as repeated_key
        from {{ source('raw', source_table) }}
        where {{ key_column }} is not null
        group by {{ key_column }}
        having count(*) > 1
    )

    select
        entity.*,
        1 as extract_rank
    from {{ source('raw', source_table) }} as entity
    left join repeated_keys
        on repeated_keys.repeated_key = entity.{{ key_column }}
    where entity.{{ key_column }} is not null
        and repeated_keys.repeated_key is null

    union all

    select
        entity.*,
        row_number() over (
            partition by entity.{{ key_column }}
            order by
                manifest.loaded_at desc nulls last,
                {{ dbt_omop.binary_collation("entity.extract_id") }} desc,
                entity.source_line desc
        ) as extract_rank
    from {{ source('raw', source_table) }} as entity
    inner join repeated_keys
        on repeated_keys.repeated_key = entity.{{ key_column }}
    left join {{ source('raw', 'extract_manifest') }} as manifest
        on manifest.extract_id = entity.extract_id
{%- endmacro %}

{#-
    OMOP vocabulary_id of a raw code-system value (conditions/procedures/allergies SYSTEM
    column); rows without one use the file's default vocabulary.
-#}
{% macro source_vocabulary_id(system_column, default_vocabulary) -%}
    case
        when {{ system_column }} is null or trim({{ system_column }}) = ''
            then '{{ default_vocabulary }}'
        when upper(trim({{ system_column }})) in ('SNOMED', 'SNOMED-CT', 'SNOMEDCT', 'SNOMED CT', 'HTTP://SNOMED.INFO/SCT')
            then 'SNOMED'
        when upper(trim({{ system_column }})) in ('ICD-10-CM', 'ICD10CM', 'HTTP://HL7.ORG/FHIR/SID/ICD-10-CM')
            then 'ICD10CM'
        when upper(trim({{ system_column }})) in ('RXNORM', 'HTTP://WWW.NLM.NIH.GOV/RESEARCH/UMLS/RXNORM')
            then 'RxNorm'
        when upper(trim({{ system_column }})) in ('LOINC', 'HTTP://LOINC.ORG')
            then 'LOINC'
        else trim({{ system_column }})
    end
{%- endmacro %}
