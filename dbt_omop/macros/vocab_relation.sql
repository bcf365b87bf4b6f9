{#-
    The relation of an OMOP vocabulary table, so that a full Athena load can replace the
    demo seeds without touching models.

    var('vocabulary') == 'demo' (default): ref('<table>'), the seed in schema vocab.
    var('vocabulary') == 'athena':         source('athena', '<table>'), schema vocab_athena.

    The demo vocabulary has no concept_ancestor; use has_vocab_relation('concept_ancestor')
    to branch before asking for it.
-#}
{% macro vocab_tables_demo() -%}
    {{ return(['concept', 'concept_relationship', 'vocabulary', 'domain']) }}
{%- endmacro %}

{% macro vocabulary_mode() -%}
    {%- set mode = var('vocabulary', 'demo') -%}
    {%- if mode not in ('demo', 'athena') -%}
        {{ exceptions.raise_compiler_error("var 'vocabulary' must be 'demo' or 'athena', got '" ~ mode ~ "'") }}
    {%- endif -%}
    {{ return(mode) }}
{%- endmacro %}

{% macro has_vocab_relation(table_name) -%}
    {{ return(vocabulary_mode() == 'athena' or table_name in vocab_tables_demo()) }}
{%- endmacro %}

{% macro vocab_relation(table_name) -%}
    {%- if vocabulary_mode() == 'athena' -%}
        {{ return(source('athena', table_name)) }}
    {%- elif table_name in vocab_tables_demo() -%}
        {{ return(ref(table_name)) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("vocabulary table '" ~ table_name ~ "' has no demo seed; run with --vars '{vocabulary: athena}'") }}
    {%- endif -%}
{%- endmacro %}
