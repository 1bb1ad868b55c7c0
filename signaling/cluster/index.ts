// Several nodes on one database: heartbeats, the node list, camera ownership with epochs.
export { Cluster, type ClusterOptions, type NodeView } from './Cluster.ts';
export { Relays, type RelaysOptions } from './Relays.ts';
export { askHandover, Drain, DrainError, type DrainOptions, type DrainReport, type DrainStatus } from './Drain.ts';
export { callNode, InternalCallError, startInternalServer } from './internal.ts';
