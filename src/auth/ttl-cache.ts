// Moved to core (services cache too); kept so auth's imports stay as they are.
export { TtlCache } from '../core/ttl-cache.js';
