{#- Adapter-specific SQL lives here so that models stay portable. -#}

{#- Number parsed from text, null when the text is not a number. -#}
{% macro safe_cast_double(expression) -%}
    {{ return(adapter.dispatch('safe_cast_double', 'dbt_omop')(expression)) }}
{%- endmacro %}

{% macro duckdb__safe_cast_double(expression) -%}
    try_cast(trim({{ expression }}) as double)
{%- endmacro %}

{% macro default__safe_cast_double(expression) -%}
    case
        when trim({{ expression }}) ~ '^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$'
            then cast(trim({{ expression }}) as double precision)
    end
{%- endmacro %}

{#- CDM "float": an 8-byte floating point number (DuckDB FLOAT is only 4 bytes). -#}
{% macro type_cdm_float() -%}
    {{ return(adapter.dispatch('type_cdm_float', 'dbt_omop')()) }}
{%- endmacro %}

{% macro duckdb__type_cdm_float() -%}double{%- endmacro %}

{% macro default__type_cdm_float() -%}double precision{%- endmacro %}
