// Answers of /api/kiosks (administrators set up wall displays) and /api/kiosk/session (a display
// trades its device token for an access token and its layout).
import { z } from 'zod';
import { isoTime, screenLayout } from './common.ts';

const layoutView = screenLayout.describe('Cameras shown at once: 1, 4 (2×2), 9 (3×3) or 16 (4×4)');
export const KioskView = z.object({
  id: z.string(),
  name: z.string(),
  cameraIds: z.array(z.string()).describe('The cameras it shows, in order'),
  layout: layoutView,
  rotateSeconds: z.number().int().describe('Seconds each page of cameras is shown when there are more cameras than the layout holds'),
  createdAt: isoTime,
});
export const KioskList = z.object({ kiosks: z.array(KioskView) });
export const KioskAnswer = z.object({ kiosk: KioskView });
const deviceToken = z.string().describe('The display\'s device token: shown only now, kept hashed. Anyone holding it can watch the kiosk\'s cameras');
const kioskLink = z.string().describe('The link to open on the display (path of the web app, the token in its fragment)');
export const CreatedKiosk = z.object({ kiosk: KioskView, token: deviceToken, url: kioskLink });
export const NewKioskToken = z.object({ token: deviceToken, url: kioskLink });
export const KioskSession = z.object({
  accessToken: z.string().describe('A kiosk access token (Authorization: Bearer) for live view of its cameras, valid 1 hour: trade the device token again before then'),
  expiresAt: isoTime.describe('When the access token expires'),
  kiosk: z.object({
    id: z.string(),
    name: z.string(),
    layout: layoutView,
    rotateSeconds: z.number().int().describe('Seconds each page of cameras is shown'),
    cameras: z.array(z.object({ id: z.string(), name: z.string() })).describe('Its cameras that still exist, in order'),
  }),
});
