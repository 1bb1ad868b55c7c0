// Answers of /api/sfu: the media servers' state, for the service's operators.
import { z } from 'zod';

const count = z.number().int().min(0);

export const ClusterNodeView = z.object({
  id: z.string(),
  self: z.boolean().describe('This is the node that answered'),
  state: z.enum(['up', 'draining', 'stopped', 'dead']).describe('stopped: drained and left; dead: silent for 3 s or more without having drained'),
  silentMs: z.number().describe('ms since its last heartbeat (by the database\'s clock)'),
  release: z.string().describe('The release it runs'),
  schemaVersion: z.number().int().optional().describe('The database schema it knows (absent from older releases)'),
  protocol: z.number().int().optional().describe('The internal protocol version it speaks (absent from older releases)'),
  startedAt: z.iso.datetime(),
  cameras: count.describe('Cameras publishing to it'),
  viewers: count.describe('Viewers watching through it'),
  recording: count.describe('Cameras it records'),
  owns: count.describe('Cameras it holds (their latest session is on it)'),
});
export const SfuState = z.object({
  node: z.string().describe('The id of the node that answered'),
  nodes: z.array(ClusterNodeView).describe('Every node of the cluster heard of, this one included (a single node lists only itself)'),
  workers: z.array(z.object({ index: count, pid: z.number().int(), routers: count.describe('mediasoup routers on it') })).describe('This node\'s mediasoup workers'),
  cameras: z
    .array(
      z.object({
        id: z.string(),
        live: z.boolean().describe('Media arrives (from the camera, or relayed)'),
        relayed: z.boolean().describe('Its media comes from the node that holds it, relayed here for viewers on this node'),
        producers: count,
        routers: count,
        workers: count.describe('Distinct workers its routers are spread over'),
        viewers: count,
      }),
    )
    .describe('The cameras with a room on this node'),
  connections: count.describe('Socket.IO connections (cameras and viewers) to this node'),
});
