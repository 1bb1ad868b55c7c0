// Answers of /api/me: the signed-in user's own settings.
import { z } from 'zod';
import { screenLayout } from './common.ts';

export const gridLayout = screenLayout.describe('How many cameras the live grid shows at once (1, 2×2, 3×3 or 4×4)');
export const Preferences = z.object({
  preferences: z.object({ layout: gridLayout.optional().describe('Absent until the user chose one (the app then picks its default)') }).describe('The user\'s saved settings'),
});
