{{ config(materialized='view') }}
-- Lineage of every clinical event: the source row (event_source, extract_id, source_line),
-- its event_id (the primary key of its CDM row), the CDM table it lands in, its person and
-- concepts. A view (macros/clinical_events.sql): each CDM event table computes its own rows
-- with the same macro; the reconciliation reads this.
{{ clinical_events(lineage_only=true) }}
