{#-
    OHDSI era collapsing, shared by condition_era and drug_era (twice: sub-exposures, then eras).

    Rows of `source` in one `partition_by` group, taken in order of `start_date` then
    `tiebreak` (a column unique in the group, so the order and the result are deterministic),
    join the current era while they start within `gap_days` days of the latest `end_date` seen
    so far; otherwise they open a new one. Returns a select of one row per era:
    the partition columns, <label>_number, <label>_start_date (earliest start),
    <label>_end_date (latest end), and each `aggregates` entry (output name -> aggregate
    expression over the source rows of the era, e.g. {'occurrence_count': 'count(*)'}).
    With gap_days 0 only overlapping (or touching) rows merge: drug_era's sub-exposures.
    Portable: window functions and dbt.dateadd only (DuckDB and PostgreSQL).
-#}
{% macro era_collapse(source, partition_by, tiebreak, gap_days, aggregates={}, start_date='start_date',
                      end_date='end_date', label='era') -%}
    {%- set partition = partition_by | join(', ') -%}
    {%- set window = 'partition by ' ~ partition ~ ' order by ' ~ start_date ~ ', ' ~ tiebreak -%}
    {%- set latest_end = 'max(' ~ end_date ~ ') over (' ~ window ~ ' rows between unbounded preceding and 1 preceding)' -%}
    select
        {{ partition }},
        {{ label }}_number,
        min({{ start_date }}) as {{ label }}_start_date,
        max({{ end_date }}) as {{ label }}_end_date
    {%- for name, expression in aggregates.items() %},
        {{ expression }} as {{ name }}
    {%- endfor %}
    from (
        select
            flagged.*,
            sum(starts_new_{{ label }}) over ({{ window }} rows between unbounded preceding and current row)
                as {{ label }}_number
        from (
            select
                source_rows.*,
                case
                    when {{ start_date }} <= {{ latest_end if gap_days == 0 else dbt.dateadd('day', gap_days, latest_end) }}
                        then 0
                    else 1
                end as starts_new_{{ label }}
            from {{ source }} as source_rows
        ) as flagged
    ) as numbered
    group by {{ partition }}, {{ label }}_number
{%- endmacro %}
