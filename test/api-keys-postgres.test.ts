// The API-key tests (api-keys.test.ts) again, with the service's metadata in PostgreSQL: keys are
// stored, revoked and coalesced the same way, and the schema migration that adds them applies.
process.env.MIMAMORI_TEST_STORE = 'postgres';
await import('./api-keys.test.ts');
export {};
