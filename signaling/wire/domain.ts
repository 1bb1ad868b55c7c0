// The domain's enumerations that cross the wire, declared once: the server (store, routes, the
// OpenAPI document) and the browser client import them from here. Plain TypeScript, no imports:
// the client bundles it as it is.

/**
 * A user's role in their organisation. Admins may do everything in it; operators and viewers act
 * on the cameras granted to them, with at most the rights of their role (ROLE_RIGHTS).
 */
export type Role = 'admin' | 'operator' | 'viewer';
export const ROLES: readonly Role[] = ['admin', 'operator', 'viewer'];

/** What a grant can allow on a camera. `manage`: change its settings and rotate its secret. */
export type Right = 'live' | 'playback' | 'export' | 'share' | 'manage';
export const RIGHTS: readonly Right[] = ['live', 'playback', 'export', 'share', 'manage'];

/** The most a grant can give each role: a viewer watches, an operator also exports, shares and manages. */
export const ROLE_RIGHTS: Record<Role, readonly Right[]> = {
  admin: RIGHTS,
  operator: RIGHTS,
  viewer: ['live', 'playback'],
};

/** What an organisation's API key may do (signaling/apiKeys.ts maps each to rights). */
export type ApiKeyScope = 'read' | 'live' | 'export' | 'manage_cameras';
export const API_KEY_SCOPES: readonly ApiKeyScope[] = ['read', 'live', 'export', 'manage_cameras'];

/**
 * Tiles a user's live grid shows at once: 1, 2×2, 3×3, 4×4 or 5×5 (a wall of 25 small layers).
 * A kiosk display keeps its own, smaller set (1 to 4×4: signaling/routes/kiosks.ts).
 */
export type GridLayout = 1 | 4 | 9 | 16 | 25;
export const GRID_LAYOUTS: readonly GridLayout[] = [1, 4, 9, 16, 25];
