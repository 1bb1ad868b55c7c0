// Answers of /api/me: the signed-in user's own settings.
import { z } from 'zod';

export const gridLayout = z
  .union([z.literal(1), z.literal(4), z.literal(9), z.literal(16), z.literal(25)])
  .describe('How many cameras the live grid shows at once (1, 2×2, 3×3, 4×4 or 5×5)');
export const Preferences = z.object({
  preferences: z.object({ layout: gridLayout.optional().describe('Absent until the user chose one (the app then picks its default)') }).describe('The user\'s saved settings'),
});
