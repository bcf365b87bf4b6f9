{#-
    The clinical source rows routed to one CDM event table (or to all when cdm_table is none),
    with person, visit, standard concept and the deterministic event_id.

    Each CDM event table runs this with its own cdm_table: the routing of int__code_map
    (decided once per code) is joined to the source rows, so each row is read, joined and
    written once, into the table it lands in. int__events runs it for all tables as a view:
    the rows' lineage (event_source, extract_id, source_line -> event_id, cdm_table, person and
    concepts; lineage_only leaves out the visit, value and unit columns and their joins), read
    by the reconciliation and never written.

    Rows of unknown patients are not events (the reconciliation reports them as lost); an
    encounter of another patient is not linked. visit_occurrence_id is the collapsed visit of
    the row's encounter (int__encounter_visit), visit_detail_id the encounter itself,
    provider_id the encounter's provider.

    Every join that sees the event rows is a left join or has a small side (the persons):
    DuckDB does not reorder or flip left joins, so it hashes the code map and the encounters
    and streams the event rows through them. (With an inner join to the routing filtered
    to one table it estimated few event rows and hashed all 11M measurements instead of the
    1.4M encounters: 10.7 s instead of 5.9 s at 100k patients.) The table filter is on
    coalesce(routing.cdm_table, default_cdm_table), which keeps the join a left join; a row
    whose code matches no routing row (a null code) lands in its default table with concept 0.

    When the model runs, int__code_map (built before it) says which source files can land
    rows in cdm_table: those whose unmapped rows default to it and those with codes routed to
    it. The other files' branches of int__event_sources are filtered out by name and never
    scanned (condition_occurrence does not read the 11M observations). A file of which less
    than half the rows land here is also filtered by code before the join: a row can land in
    cdm_table only when its default table is cdm_table or its code is routed there (at most
    1,000 such codes are listed; beyond that the join alone decides). observation keeps 0.5M
    of the 11M observations this way (1.96 -> 1.3 CPU-s at 100k). The files of the defaults
    are always read, so a code map built before a file's first delivery can misroute its new
    codes but never lose its rows; without the code map (a compile before the first build)
    nothing is filtered.
-#}
{#-
    The default CDM table(s) of each clinical source file: where int__event_sources sends its
    rows when their code has no standard concept (observations: measurement when the value is
    numeric, observation otherwise). clinical_events always reads a table's default files.
    int__event_sources writes the same defaults in its branches; the singular test
    event_source_defaults_declared fails when it yields a pair that is not listed here, so a
    new source file cannot be added in one place only.
-#}
{% macro event_source_default_tables() -%}
    {{ return({
        'conditions': ['condition_occurrence'],
        'medications': ['drug_exposure'],
        'immunizations': ['drug_exposure'],
        'observations': ['measurement', 'observation'],
        'procedures': ['procedure_occurrence'],
        'allergies': ['observation'],
        'devices': ['device_exposure'],
    }) }}
{%- endmacro %}

{% macro clinical_events(cdm_table=none, lineage_only=false) -%}
{%- set default_sources = {} -%}
{%- for source, tables in event_source_default_tables().items() -%}
    {%- for table in tables -%}
        {%- do default_sources.update({table: default_sources.get(table, []) + [source]}) -%}
    {%- endfor -%}
{%- endfor -%}
{%- set read_sources = none -%}
{%- set code_filters = {} -%}
{%- if execute and cdm_table is not none -%}
    {%- set code_map = ref('int__code_map') -%}
    {%- if adapter.get_relation(database=code_map.database, schema=code_map.schema,
                                identifier=code_map.identifier) is not none -%}
        {%- set routing = run_query(
            "select event_source, source_code, default_cdm_table, cdm_table, source_rows from " ~ code_map) -%}
        {%- set totals = {} -%}
        {%- set landing = {} -%}
        {%- set routed_codes = {} -%}
        {%- for row in routing.rows -%}
            {%- do totals.update({row[0]: totals.get(row[0], 0) + row[4]}) -%}
            {%- if row[3] == cdm_table -%}
                {%- do landing.update({row[0]: landing.get(row[0], 0) + row[4]}) -%}
                {%- if row[2] != cdm_table and row[1] is not none -%}
                    {%- do routed_codes.update({row[0]: routed_codes.get(row[0], []) + [row[1]]}) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set read_sources = (default_sources.get(cdm_table, []) + landing.keys() | list) | unique | sort -%}
        {%- for source in read_sources -%}
            {%- set codes = routed_codes.get(source, []) | unique | sort -%}
            {%- if landing.get(source, 0) * 2 < totals.get(source, 0) and codes | length <= 1000 -%}
                {%- do code_filters.update({source: codes}) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endif %}
with routed as (
    select
        sources.*,
        coalesce(routing.cdm_table, sources.default_cdm_table) as cdm_table,
        coalesce(routing.concept_id, 0) as concept_id,
        coalesce(routing.mapped_concept_id, 0) as mapped_concept_id,
        coalesce(routing.source_concept_id, 0) as source_concept_id,
        routing.value_as_concept_id
    from {{ ref('int__event_sources') }} as sources
    left join {{ ref('int__code_map') }} as routing
        on routing.event_source = sources.event_source
        and routing.source_code = sources.source_code
        and routing.source_vocabulary_id = sources.source_vocabulary_id
        and routing.default_cdm_table = sources.default_cdm_table
    where sources.start_date is not null
    {%- if cdm_table is not none %}
        and coalesce(routing.cdm_table, sources.default_cdm_table) = '{{ cdm_table }}'
    {%- endif %}
    {%- if read_sources %}
        and sources.event_source in ('{{ read_sources | join("', '") }}')
    {%- endif %}
    {%- for source, codes in code_filters.items() %}
        and (sources.event_source <> '{{ source }}'
            or sources.default_cdm_table = '{{ cdm_table }}'
            {%- if codes %}
            or sources.source_code in ({% for code in codes %}'{{ code | replace("'", "''") }}'{{ ", " if not loop.last }}{% endfor %})
            {%- endif %})
    {%- endfor %}
),

units as (
    select
        concept_id as unit_concept_id,
        concept_code as unit_code
    from {{ vocab_relation('concept') }}
    where vocabulary_id = 'UCUM'
        and standard_concept = 'S'
        and invalid_reason is null
)

select
    {{ surrogate_id('routed.event_source', 'routed.extract_id', 'routed.source_line', 'routed.mapped_concept_id') }} as event_id,
    routed.cdm_table,
    routed.event_source,
    routed.extract_id,
    routed.source_line,
    persons.person_id,
    routed.concept_id,
    routed.mapped_concept_id,
    routed.source_concept_id
    {%- if not lineage_only %},
    case when visits.person_id = persons.person_id then visits.visit_occurrence_id end as visit_occurrence_id,
    case when visits.person_id = persons.person_id then visits.visit_detail_id end as visit_detail_id,
    case when visits.person_id = persons.person_id then visits.provider_id end as provider_id,
    routed.source_code,
    routed.start_date,
    routed.start_datetime,
    case when routed.end_date >= routed.start_date then routed.end_date end as end_date,
    case when routed.end_datetime >= routed.start_datetime then routed.end_datetime end as end_datetime,
    routed.value_as_number,
    routed.value_as_string,
    routed.value_as_concept_id,
    routed.value_source_value,
    routed.unit_source_value,
    case
        when routed.unit_source_value is not null then coalesce(units.unit_concept_id, 0)
    end as unit_concept_id
    {%- endif %}
from routed
{%- if not lineage_only %}
-- encounter_id is unique in int__encounter_visit, so joining on it alone finds the same
-- row; it links only when the encounter belongs to the row's patient, compared on the
-- person ids (surrogate_id of the patient id on both sides): equality on two 64-hex keys in
-- the join would hash both for every event row, and carrying the encounter's patient id
-- through the join costs more than its bigint person id.
left join {{ ref('int__encounter_visit') }} as visits
    on visits.encounter_id = routed.encounter_id
{%- endif %}
-- person_id was hashed once per patient in staging (not once per event row)
inner join {{ ref('stg_synthea__patients') }} as persons
    on persons.patient_id = routed.patient_id
{%- if not lineage_only %}
left join units
    on units.unit_code = routed.unit_source_value
{%- endif %}
{%- endmacro %}
