// The permission matrix (permissions.test.ts) again, with the service's metadata in PostgreSQL:
// every route and socket event allows and refuses exactly as with the files store.
process.env.MIMAMORI_TEST_STORE = 'postgres';
await import('./permissions.test.ts');
export {};
