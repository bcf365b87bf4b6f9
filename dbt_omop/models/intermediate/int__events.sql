{{ config(materialized='view') }}
-- Lineage of every clinical event: the source row (event_source, extract_id, source_line),
-- its event_id (the primary key of its CDM row) and the CDM table it lands in, with the
-- columns the CDM event tables take from it. A view (macros/clinical_events.sql): each CDM
-- event table computes its own rows; the reconciliation reads this.
{{ clinical_events() }}
