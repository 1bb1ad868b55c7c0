// What every route can reach, and the typed Hono environment (the authenticated caller).
import type { Sfu } from '../sfu/index.ts';
import type { Config } from '../config/index.ts';
import type { Tokens } from './auth.ts';
import type { Logger } from './log.ts';
import type { Store, User } from './store.ts';
import type { Hub } from './Hub.ts';
import type { Recorder } from '../recorder/index.ts';
import type { ExportJobs, Playback } from '../playback/index.ts';
import type { Access } from './access.ts';

export interface Deps {
  config: Config;
  store: Store;
  tokens: Tokens;
  sfu: Sfu;
  log: Logger;
  hub: Hub;
  recorder: Recorder;
  playback: Playback;
  exports: ExportJobs;
}

export interface AppEnv {
  Variables: {
    user: User;
    /** Set by requireAccess: a user, an opened share link or a kiosk. */
    access: Access;
    requestId: string;
  };
}
