// Answers of /api/users: the users of an organisation, as its administrators manage them.
import { z } from 'zod';
import { PublicUser } from './auth.ts';

export const ListedUser = PublicUser.extend({
  cameraIds: z.array(z.string()).describe('Cameras the user holds a grant on directly (grants on camera groups are not listed here: see GET /api/grants)'),
});
export const UserList = z.object({ users: z.array(ListedUser) });
export const UserAnswer = z.object({ user: PublicUser });
