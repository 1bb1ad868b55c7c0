// Answers of /api/nodes: a node of the cluster asked to drain.
import { z } from 'zod';

export const NodeDraining = z.object({ node: z.string().describe('The node asked to drain'), draining: z.literal(true) });
