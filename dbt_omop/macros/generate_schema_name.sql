{#- Custom schema names (omop_staging, omop_int, omop, vocab) are used verbatim, not
    prefixed with the target schema; nodes without one land in the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
