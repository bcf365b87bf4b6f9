{#-
    Every (event_source, default_cdm_table) pair of the clinical rows is declared in
    event_source_default_tables() (macros/clinical_events.sql). The CDM event tables always read
    their declared default files, which is what keeps a code map built before a file's first
    delivery from dropping that file's rows; a branch added to int__event_sources without
    its declaration fails here (one row per undeclared pair, with its row count).
    int__code_map holds every pair that occurs, a few thousand rows, so this costs no scan of
    the events.
-#}
{%- set declared = event_source_default_tables() %}
select
    event_source,
    default_cdm_table,
    sum(source_rows) as source_rows
from {{ ref('int__code_map') }}
where
    not (
        {%- for source, tables in declared.items() %}
            (
                event_source = '{{ source }}'
                and default_cdm_table in (
                    '{{ tables | join("', '") }}'
                )
            )
            {%- if not loop.last %} or{% endif %}
        {%- endfor %}
    )
group by event_source, default_cdm_table
