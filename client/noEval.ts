// zod compiles faster parsers with Function() where it may; the pages' Content-Security-Policy
// forbids eval, and even zod's probe for it would be reported as a violation. Every page imports
// this module first, so it runs before any schema is built (each schema decides when it is built).
import { z } from 'zod';

z.config({ jitless: true });
