-- The digest macro of one hashed field, filled in for each field of event_fields.HASHED_FIELDS:
-- an already hashed value passes through, anything else is hashed after its field's normalization.

CREATE OR REPLACE TEMP MACRO pp_hash_<<FIELD>>(<<PARAMS>>) AS
    pp__hash_or_passthrough(v, pp_normalize_<<FIELD>>(<<PARAMS>>))
