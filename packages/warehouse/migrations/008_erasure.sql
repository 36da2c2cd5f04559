-- Erasure reaches every copy (GDPR delete, services/api/src/persons).
--
-- Dead letters carry the hashes of the identifiers their payload holds (as
-- identity_audit has them), so that a delete or an export finds a person's
-- refused events, and the delete's mutation names hashes, never an
-- identifier in clear.
ALTER TABLE events_invalid ADD COLUMN IF NOT EXISTS identifier_hashes Array(String) DEFAULT [];

-- Parts a delete rewrote leave the disk soon after (default: 8 minutes).
ALTER TABLE events MODIFY SETTING old_parts_lifetime = 30;
ALTER TABLE events_invalid MODIFY SETTING old_parts_lifetime = 30;
ALTER TABLE identities MODIFY SETTING old_parts_lifetime = 30;
ALTER TABLE identity_resolver_progress MODIFY SETTING old_parts_lifetime = 30;
