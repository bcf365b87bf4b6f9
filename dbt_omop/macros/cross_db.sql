{#- Adapter-specific SQL lives here so that models stay portable. -#}

{#- Number parsed from text, null when the text is not a number. -#}
{% macro safe_cast_double(expression) -%}
    {{ return(adapter.dispatch('safe_cast_double', 'dbt_omop')(expression)) }}
{%- endmacro %}

{% macro duckdb__safe_cast_double(expression) -%}
    try_cast(trim({{ expression }}) as double)
{%- endmacro %}

{#- Postgres: the same numbers DuckDB's try_cast accepts (surrounding whitespace, single
    underscores between digits, inf/infinity/nan in any case); values beyond the double range
    become +-Infinity / 0 as in DuckDB instead of raising an error. -#}
{% macro default__safe_cast_double(expression) -%}
    {%- set text = 'trim(' ~ expression ~ ')' -%}
    {%- set digits = '[0-9]+(_[0-9]+)*' -%}
    {%- set number = "replace(" ~ text ~ ", '_', '')" -%}
    case
        when {{ text }} ~* '^\s*[-+]?(inf|infinity)\s*$'
            then cast({{ text }} as double precision)
        when {{ text }} ~* '^\s*[-+]?nan\s*$'
            then cast('NaN' as double precision)
        when {{ text }} ~ '^\s*[-+]?({{ digits }}\.?({{ digits }})?|\.{{ digits }})([eE][-+]?{{ digits }})?\s*$'
            then case
                when abs(cast({{ number }} as numeric)) > 1.7976931348623157e308
                    then sign(cast({{ number }} as numeric)) * cast('Infinity' as double precision)
                when abs(cast({{ number }} as numeric)) < 2.4703282292062328e-324
                    and cast({{ number }} as numeric) <> 0
                    then sign(cast({{ number }} as numeric)) * cast(0 as double precision)
                else cast({{ number }} as double precision)
            end
    end
{%- endmacro %}

{#- CDM "float": an 8-byte floating point number (DuckDB FLOAT is only 4 bytes). -#}
{% macro type_cdm_float() -%}
    {{ return(adapter.dispatch('type_cdm_float', 'dbt_omop')()) }}
{%- endmacro %}

{% macro duckdb__type_cdm_float() -%}double{%- endmacro %}

{% macro default__type_cdm_float() -%}double precision{%- endmacro %}

{#- A text expression compared byte-wise (DuckDB's only ordering), so that ORDER BY / min()
    on text keys gives the same result on a Postgres database with a linguistic collation
    (e.g. en_US.UTF-8, where '-' and '_' are ignored at the first level). -#}
{% macro binary_collation(expression) -%}
    {{ return(adapter.dispatch('binary_collation', 'dbt_omop')(expression)) }}
{%- endmacro %}

{% macro duckdb__binary_collation(expression) -%}
    {{ expression }}
{%- endmacro %}

{% macro default__binary_collation(expression) -%}
    ({{ expression }}) collate "C"
{%- endmacro %}
