// The one translation layer of the browser pages: Japanese and English dictionaries, the chosen
// language and time zone (remembered in localStorage), and date/time formatting through Intl.
// Every user-facing string goes through t(); elements bound with bindText()/bindAttr() are
// re-translated in place when the language changes, so nothing has to be rebuilt.
import { storage } from './storage.ts';

const en = {
  'app.name': 'Mimamori',
  'nav.live': 'Live view',
  'nav.camera': 'Publish a camera',
  'locale.language': 'Language',
  'locale.timeZone': 'Time zone',
  'common.copy': 'Copy',
  'common.copied': 'Copied',
  'common.close': 'Close',
  'common.loading': 'Loading…',

  'login.title': 'Sign in',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.busy': 'Signing in…',
  'login.sessionEnded': 'Your session ended. Please sign in again.',
  'login.signedInAs': '{name} ({role})',
  'login.logout': 'Sign out',
  'role.admin': 'administrator',
  'role.viewer': 'viewer',

  'error.invalid_credentials': 'Wrong username or password.',
  'error.unauthorized': 'Please sign in again.',
  'error.token_expired': 'Your session expired. Please sign in again.',
  'error.forbidden': 'You are not allowed to do this.',
  'error.network': 'Cannot reach the server. Check the network connection and try again.',
  'error.timeout': 'The server did not answer in time. Try again.',
  'error.rate_limited': 'Too many requests. Wait a moment and try again.',
  'error.username_taken': 'This username is already taken. Choose another.',
  'error.invalid_request': 'Some input is not valid: {detail}',
  'error.camera_not_found': 'This camera does not exist or you may not view it.',
  'error.user_not_found': 'This user does not exist.',
  'error.invalid_camera_secret': 'The camera ID or secret is wrong. Copy the camera link again from the admin page.',
  'error.internal': 'The server could not handle the request. Try again later.',
  'error.generic': 'Error: {message}',

  'state.connecting': 'Connecting',
  'state.live': 'Live',
  'state.reconnecting': 'Reconnecting',
  'state.offline': 'Offline',
  'state.denied': 'No access',
  'state.error': 'Error',

  'grid.layout': 'Layout',
  'grid.cameras': 'Cameras',
  'grid.noCameras': 'No cameras to show yet.',
  'grid.noCamerasAdmin': 'No cameras yet. Add one in the administration panel below.',
  'grid.page': 'Page {page} of {pages}',
  'grid.prev': 'Previous',
  'grid.next': 'Next',
  'grid.back': 'Back to the grid',
  'grid.soundOn': 'Sound on',
  'grid.soundOff': 'Mute',
  'grid.open': 'Open {name} in single view',
  'grid.unsupported': 'This browser cannot play WebRTC video. Use a current Chrome, Edge, Firefox or Safari.',

  'admin.title': 'Administration',
  'admin.cameras': 'Cameras',
  'admin.cameraName': 'Camera name',
  'admin.cameraId': 'ID',
  'admin.addCamera': 'Add camera',
  'admin.secretOnce': 'Secret of “{name}” — shown only this once, keep it safe:',
  'admin.cameraLink': 'Open this link on the device that films (phone or PC) to start publishing:',
  'admin.copyLink': 'Copy link',
  'admin.rotate': 'Renew secret',
  'admin.confirmRotate': 'Renew the secret of “{name}”? The camera has to use the new link afterwards.',
  'admin.delete': 'Delete',
  'admin.confirmDelete': 'Delete the camera “{name}” and every recording of it? Nobody will be able to watch it any more, and this cannot be undone.',
  'admin.recording': 'Recording',
  'admin.recordingOn': 'Record continuously',
  'admin.retention': 'Keep recordings for',
  'admin.retentionDays': '{days} days',
  'admin.recordingSaved': 'Recording settings of “{name}” saved.',
  // Roles, grants, groups, announcements, organisations, banner (client/people.ts, groups.ts, announcements.ts, orgs.ts, alerts.ts, banner.ts)
  'role.operator': 'operator',
  'right.live': 'Live',
  'right.playback': 'Playback',
  'right.export': 'Export',
  'right.share': 'Share links',
  'right.manage': 'Manage',
  'admin.grace': 'Old secret keeps working for',
  'admin.graceNone': 'Stop the old secret now',
  'admin.graceHours': 'Old secret valid {hours} h',
  'admin.confirmRotateGrace': 'Renew the secret of “{name}”? The old secret keeps working for {hours} hours, so the camera can be switched to the new link without going dark.',
  'admin.oldSecretUntil': 'The old secret keeps working until {at}.',
  'admin.oldSecretStopped': 'The old secret no longer works.',
  'people.help': 'Viewers may watch live and recorded video; operators may also export, share and manage the cameras granted to them; administrators may do everything on every camera.',
  'people.roleOf': 'Role of {name}',
  'people.grants': 'Permissions',
  'people.confirmRole': 'Change the role of {name} to {role}? It applies from their next action.',
  'people.roleChanged': 'The role of {name} is now {role}.',
  'people.confirmDelete': 'Delete the user “{name}”? They are signed out everywhere and cannot sign in again.',
  'people.unlock': 'Unlock sign-in',
  'people.unlocked': '{name} can sign in again.',
  'people.notLocked': '{name} was not locked out.',
  'people.signOut': 'Sign out everywhere',
  'people.signedOut': '{name} was signed out of {count} session(s); their live views stopped.',
  'people.target': 'Camera or group',
  'people.ceiling': 'With the role {role} this user can hold: {rights}.',
  'people.groupLabel': 'Group: {name}',
  'people.grantBox': '{user}: {right} on {target}',
  'people.grantSaved': 'Permissions of {name} on {target} saved.',
  'people.error.lastAdmin': 'This is the last administrator of the organisation. Make someone else an administrator first.',
  'people.error.selfDelete': 'You cannot delete your own account. Ask another administrator.',
  'people.error.rightNotAllowed': 'This role cannot hold that permission. Change the role first.',
  'groups.title': 'Camera groups',
  'groups.help': 'A group (a site, a floor) lets one permission cover all its cameras.',
  'groups.name': 'Group name',
  'groups.add': 'Add group',
  'groups.none': 'No groups yet.',
  'groups.member': '{camera} in {group}',
  'groups.rename': 'Rename',
  'groups.renamePrompt': 'New name of the group',
  'groups.confirmDelete': 'Delete the group “{name}”? Permissions given through it end; the cameras stay.',
  'announce.title': 'Announcements',
  'announce.kind': 'Kind',
  'announce.message': 'Message shown to users',
  'announce.startsAt': 'From (empty: now)',
  'announce.endsAt': 'Until',
  'announce.everyone': 'All organisations',
  'announce.post': 'Post',
  'announce.posted': 'Announcement posted.',
  'announce.badRange': 'The end must be after the start (and in the future).',
  'announce.none': 'No announcements.',
  'announce.confirmDelete': 'Delete this announcement? It disappears from every screen.',
  'announce.state.future': 'scheduled',
  'announce.state.active': 'showing',
  'announce.state.ended': 'ended',
  'alerts.title': 'Cameras online but not recording',
  'alerts.notRecording': '{name}: online but not recording since {since}.',
  'alerts.diskFull': '{name}: not recorded since {since}: the recorder\'s disk is full.',
  'alerts.other': '{name}: {kind} since {since}.',
  'orgs.title': 'Organisations',
  'orgs.name': 'Organisation name',
  'orgs.users': 'Users',
  'orgs.adminName': 'First administrator’s username',
  'orgs.create': 'Create organisation',
  'orgs.created': 'Organisation “{name}” was created.',
  'orgs.contractEnd': 'Contract end (deletion)',
  'orgs.contractEndOf': 'Contract end of {name}',
  'orgs.schedule': 'Schedule contract end',
  'orgs.cancel': 'Cancel contract end',
  'orgs.confirmSchedule': 'End the contract of “{name}” on {date}? Its users are warned until then; afterwards all its recordings, cameras and accounts are deleted.',
  'orgs.badDate': 'Choose a date and time in the future.',
  'orgs.own': 'Your own organisation',
  'orgs.reports': 'Completed deletions',
  'orgs.noReports': 'None yet.',
  'orgs.report': '{name}: deleted {at} ({users} users, {cameras} cameras, {objects} stored objects).',
  'admin.nodes.title': 'Service nodes',
  'admin.nodes.help': 'The servers the service runs on, refreshed every 3 seconds. Drain a node before maintenance: it leaves the load balancer, moves its cameras to the other nodes one at a time, then stops.',
  'admin.nodes.node': 'Node',
  'admin.nodes.state': 'State',
  'admin.nodes.release': 'Release',
  'admin.nodes.owns': 'Cameras held',
  'admin.nodes.viewers': 'Viewers',
  'admin.nodes.recording': 'Recording',
  'admin.nodes.started': 'Started',
  'admin.nodes.self': 'this node',
  'admin.nodes.selfHint': 'The node that answered this list (the one this page talks to)',
  'admin.nodes.state.up': 'Up',
  'admin.nodes.state.draining': 'Draining',
  'admin.nodes.state.dead': 'No answer',
  'admin.nodes.state.stopped': 'Stopped (drained)',
  'admin.nodes.silent': 'no heartbeat for {seconds} s',
  'admin.nodes.left': '{count} camera(s) left',
  'admin.nodes.drainingLeft': 'Node {node} is draining: {count} camera(s) left to move.',
  'admin.nodes.drainingDone': 'Node {node} is draining: every camera has moved; it stops shortly.',
  'admin.nodes.none': 'No nodes listed.',
  'admin.nodes.drain': 'Drain',
  'admin.nodes.confirmDrain': 'Drain node {node}? It leaves the load balancer, moves its {count} camera(s) to the other nodes one at a time, sends its viewers elsewhere, then stops. This cannot be cancelled.\n\nReason (optional, kept in the audit log):',
  'admin.nodes.drainStarted': 'Node {node} is draining: it has left the load balancer and is moving its cameras.',
  'admin.nodes.error.not_clustered': 'This service runs as a single node: there is no other node to move its cameras to, so it cannot be drained. (Server: {detail})',
  'admin.nodes.error.node_not_found': 'This node is not in the cluster (it may have stopped already). (Server: {detail})',
  'admin.nodes.error.node_unreachable': 'The node did not take the request. Check it and try again. (Server: {detail})',
  'banner.kind.maintenance': 'Maintenance',
  'banner.kind.incident': 'Incident',
  'banner.kind.info': 'Information',
  'banner.kind.contract_end': 'Contract end',
  'banner.until': '{message} (until {until})',
  'banner.contractEnd': 'Your organisation’s contract ends on {date}. All recordings, cameras and accounts will then be deleted. Export what you need before then.',
  'banner.dismiss': 'Dismiss',
  'admin.users': 'Users and viewing permissions',
  'admin.username': 'Username',
  'admin.password': 'Password (10 characters or more)',
  'admin.role': 'Role',
  'admin.addUser': 'Add user',
  'admin.userAdded': 'User “{name}” was added.',
  'admin.allCameras': 'All cameras',
  'admin.grant': '{user} may view {camera}',
  'admin.noCameras': 'No cameras yet.',
  'admin.publishHere': 'Publish from this device',

  'camera.title': 'Camera',
  'camera.pick': 'Choose the camera to publish as:',
  'camera.start': 'Start publishing',
  'camera.needLink': 'Open the camera link from the administration page on this device, or sign in as an administrator.',
  'camera.name': 'Camera: {name}',
  'camera.state.idle': 'Ready',
  'camera.state.starting': 'Starting the camera',
  'camera.state.connecting': 'Connecting',
  'camera.state.live': 'Publishing',
  'camera.state.reconnecting': 'Reconnecting',
  'camera.state.stopped': 'Stopped',
  'camera.stopped.replaced': 'This camera is now publishing from another device, so this one stopped.',
  'camera.stopped.deleted': 'An administrator deleted this camera.',
  'camera.stopped.other': 'The server stopped this camera: {reason}',
  'camera.state.error': 'Stopped',
  'camera.resume': 'Publish from this device again',
  'camera.bitrate': '{kbps} kbit/s',
  'camera.stats': '{codec} · {width}×{height} · {kbps} kbit/s',
  'camera.since': 'Publishing since {time}',
  'camera.error.permission': 'Camera or microphone access was denied. Allow it in the browser settings, then reload this page.',
  'camera.error.noDevice': 'No camera or microphone was found on this device.',
  'camera.error.insecure': 'Camera access needs a secure page. Open this page with https://.',
  'camera.error.unsupported': 'This browser cannot publish video over WebRTC. Use a current Chrome, Edge, Firefox or Safari.',
  'camera.error.media': 'The camera could not be started: {message}',
  'nav.playback': 'Recordings',
  'playback.speed': 'Speed',
  'playback.liveEdge': 'Up to now (still recording)',
  'playback.noMore': 'No recording at or after {at}.',
  'playback.waitingForMore': 'Waiting for the recording after {at}…',
  'playback.error': 'Playback failed: {message}',
  'playback.retrying': 'Playback was interrupted. Trying again…',
  'playback.unsupported': 'This browser cannot play recordings. Use a current Chrome, Edge, Firefox or Safari.',
  'playback.gapAt': 'No recording at {asked} ({reason}); playing from {start}.',
  'playback.skipped': 'Skipped {from}–{to} ({reason}).',
  'gap.camera-offline': 'camera offline',
  'gap.frames-lost': 'video lost on the way',
  'gap.recorder-down': 'recorder not running',
  'gap.spool-overflow': 'recorder storage full',
  'gap.disk-full': 'recorder disk full',
  'gap.clock-drift': "camera's clock corrected",
  'gap.producer-changed': 'camera restarted',
  'gap.node-failed': 'a recording server failed; another took over',
  'gap.unrecorded': 'not recorded',
  'gap.recording-off': 'recording turned off',
  'gap.recovered': 'recovered after a failure',
  'timeline.label': 'Timeline',
  'timeline.zoom': 'Zoom',
  'timeline.day': 'Day',
  'timeline.hour': 'Hour',
  'timeline.minute': 'Minute',
  'timeline.earlier': 'Earlier',
  'timeline.later': 'Later',
  'timeline.date': 'Jump to date',
  'timeline.gap': 'No recording {from}–{to}: {reason}',
  'event.camera-online': 'camera online',
  'event.camera-offline': 'camera offline',
  'event.resolution-change': 'resolution changed to {detail}',
  'event.hold': 'kept on hold',
  'grid.recordings': 'Recordings',
  'grid.recordingsOf': 'Recordings of {name}',
  'grid.layoutSaveFailed': 'The layout could not be saved on the server; it is remembered in this browser only.',
  'marks.in': 'Mark in',
  'marks.out': 'Mark out',
  'marks.clear': 'Clear marks',
  'marks.none': 'Set in and out marks at the playhead to export or share a clip.',
  'marks.half': 'Set both marks (the out mark after the in mark).',
  'marks.range': '{range} ({duration})',
  'export.title': 'Export',
  'export.name': 'File name (optional)',
  'export.create': 'Export',
  'export.downloadNow': 'Download now',
  'export.needMarks': 'Mark a range first.',
  'export.tooLong': 'The range is too long to export (24 hours at most).',
  'export.longRange': '{range}: longer than {minutes} minutes — use Export (it runs on the server; download when done).',
  'export.ready': '{range}: download now, or export and download later.',
  'export.started': 'Export “{name}” started.',
  'export.list': 'Your exports',
  'export.none': 'No exports yet.',
  'export.delete': 'Delete',
  'export.confirmDelete': 'Delete the export “{name}”?',
  'export.done': 'Ready {size} · {duration}',
  'export.download': 'Download',
  'export.failed': 'Failed: {message}',
  'export.queued': 'Waiting…',
  'export.running': '{percent}%',
  'export.progress': 'Export progress {percent}%',
  'export.gaps': '{count} gap(s) without recording',
  'share.title': 'Share',
  'share.kind': 'What to share',
  'share.kind.clip': 'Clip (in–out)',
  'share.kind.live': 'Live view',
  'share.expiry': 'Valid for',
  'share.expiry.1': '1 hour',
  'share.expiry.24': '24 hours',
  'share.expiry.168': '7 days',
  'share.password': 'Password (optional)',
  'share.create': 'Create share link',
  'share.needMarks': 'Mark a range first to share a clip.',
  'share.created': 'Share link created, valid until {expires}:',
  'share.copy': 'Copy link',
  'share.passwordNote': 'Send the password separately from the link.',
  'share.list': 'Your share links',
  'share.none': 'No share links yet.',
  'share.revoke': 'Revoke',
  'share.confirmRevoke': 'Revoke this share link? Anyone using it loses access at once.',
  'share.state.active': 'Valid until {expires}',
  'share.state.expired': 'Expired {expires}',
  'share.state.revoked': 'Revoked',
  'share.uses': 'Opened {uses} times',
  'share.hasPassword': 'Password protected',
  'playback.camera': 'Camera',
  'playback.mode': 'Recorded or live',
  'playback.mode.recorded': 'Recorded',
  'playback.mode.live': 'Live',
  'kiosk.connecting': 'Connecting to the server…',
  'kiosk.reconnecting': 'Connection lost. Reconnecting…',
  'kiosk.revoked': 'This display was revoked by an administrator.',
  'kiosk.noToken': 'This display link is incomplete. Open the full kiosk link from the administration page.',
  'kiosk.noCameras': 'No cameras are assigned to this display.',
  'kiosk.state.connecting': 'Connecting…',
  'kiosk.state.live': 'Live',
  'kiosk.state.offline': 'Camera offline',
  'kiosk.state.reconnecting': 'Reconnecting…',
  'kiosk.state.denied': 'Not available',
  'kiosk.state.error': 'Cannot play this camera',
  'sharePage.title': 'Shared video',
  'sharePage.open': 'Open',
  'sharePage.needsPassword': 'This share link is protected by a password.',
  'sharePage.wrongPassword': 'Wrong password. Try again.',
  'sharePage.clipRange': 'Clip {range} · link valid until {expires}',
  'sharePage.download': 'Download the clip',
  'sharePage.retry': 'Try again',
  'sharePage.expired': 'This share link has expired.',
  'sharePage.revoked': 'This share link was revoked by the person who shared it.',
  'sharePage.not_found': 'This share link does not exist. Check that the whole link was copied.',
  'sharePage.too_many_attempts': 'Too many wrong passwords. Wait a while and try again.',
  'kiosk.admin.title': 'Kiosk displays',
  'kiosk.admin.help': 'A wall screen that shows chosen cameras without signing in. Open its link once on the display device.',
  'kiosk.admin.name': 'Display name',
  'kiosk.admin.cameras': 'Cameras',
  'kiosk.admin.layout': 'Layout',
  'kiosk.admin.rotate': 'Page every (seconds)',
  'kiosk.admin.seconds': '{seconds} s',
  'kiosk.admin.create': 'Add display',
  'kiosk.admin.pickCameras': 'Choose at least one camera.',
  'kiosk.admin.linkOnce': 'Link of the display “{name}” — shown only this once. Open it on the display device:',
  'kiosk.admin.none': 'No kiosk displays yet.',
  'kiosk.admin.newLink': 'New link',
  'kiosk.admin.confirmNewLink': 'Give “{name}” a new link? The display stops until the new link is opened on it.',
  'kiosk.admin.revoke': 'Revoke',
  'kiosk.admin.confirmRevoke': 'Revoke the display “{name}”? Its screen stops at once.',

  // Accounts (client/account.ts)
  'account.title': 'Account and security',
  'account.sessions': 'Signed in on {count} device(s) or browser(s).',
  'account.logoutAll': 'Sign out everywhere',
  'account.logoutAllConfirm': 'Sign out on every device and browser, including this one? Live views there stop at once.',
  'account.totp.title': 'Two-step sign-in',
  'account.totp.off': 'Off. With it on, signing in also asks for a 6-digit code from an authenticator app on your phone.',
  'account.totp.on': 'On. To turn it off, enter your password and a current code.',
  'account.totp.start': 'Set up two-step sign-in',
  'account.totp.scan': 'Add this key to your authenticator app (or open the link on the phone that has the app), then enter the code it shows.',
  'account.totp.openApp': 'Open in the authenticator app',
  'account.totp.code': 'Authenticator code (6 digits)',
  'account.totp.confirm': 'Turn on',
  'account.totp.enabled': 'Two-step sign-in is on.',
  'account.totp.disable': 'Turn off',
  'account.totp.disabled': 'Two-step sign-in is off.',
  'account.password.title': 'Change password',
  'account.password.rule': 'At least 12 characters; a few unrelated words make a good password. Not your username or a common password.',
  'account.password.current': 'Current password',
  'account.password.next': 'New password',
  'account.password.submit': 'Change password',
  'account.password.changed': 'Password changed at {at}. Your other devices were signed out.',
  'account.error.account_locked': 'Too many failed sign-ins: this account is locked for a while. Wait about 15 minutes, or ask an administrator to unlock it.',
  'account.error.too_many_attempts': 'Too many failed sign-ins from this network. Wait a moment and try again.',
  'account.error.totp_required': 'Enter the 6-digit code from your authenticator app.',
  'account.error.totp_invalid': 'The code is wrong or was already used. Enter the current code from your authenticator app.',
  'account.error.weak_password': 'This password is not accepted: {detail}',
  'account.error.wrong_password': 'The current password is wrong.',
  'account.error.session_revoked': 'You were signed out (on this device or everywhere). Please sign in again.',
  'account.error.session_expired': 'Your session has ended. Please sign in again.',
  'account.error.refresh_reused': 'This sign-in was used from two places, so it was ended for safety. Please sign in again.',
  'account.error.totp_already_enabled': 'Two-step sign-in is already on.',
  // Audit log (client/audit.ts)
  'audit.title': 'Audit log',
  'audit.help': 'Every sign-in, live view, playback, export, share link and change of permissions or settings: who, which camera, when and from where. Entries cannot be edited or deleted.',
  'audit.from': 'From',
  'audit.to': 'To',
  'audit.actor': 'Who',
  'audit.actorHint': 'u:<user id>, s:<share>, k:<kiosk>, a:<API key>',
  'audit.action': 'Action',
  'audit.camera': 'Camera',
  'audit.outcome': 'Result',
  'audit.time': 'Time',
  'audit.ip': 'From (address)',
  'audit.detail': 'Details',
  'audit.any': 'All',
  'audit.search': 'Search',
  'audit.more': 'Show older entries',
  'audit.exportCsv': 'Export CSV',
  'audit.none': 'No matching entries.',
  'audit.badRange': 'The end date must not be before the start date.',
  'audit.outcome.ok': 'OK',
  'audit.outcome.refused': 'Refused',
  'audit.outcome.error': 'Failed',
  'audit.actions.auth': 'Sign-in and security',
  'audit.actions.live': 'Live view',
  'audit.actions.playback': 'Playback',
  'audit.actions.export': 'Exports',
  'audit.actions.share': 'Share links',
  'audit.actions.grant': 'Permissions',
  'audit.actions.camera': 'Camera settings',
  'audit.actions.user': 'Users',
  'audit.actions.kiosk': 'Kiosk displays',
  'audit.actions.audit': 'Audit log',
  'audit.action.auth.login': 'Signed in',
  'audit.action.auth.login_failed': 'Sign-in failed',
  'audit.action.auth.lockout': 'Account locked',
  'audit.action.live.view': 'Live view',
  'audit.action.playback.start': 'Playback',
  'audit.action.export.create': 'Export',
  'audit.action.export.download': 'Download',
  'audit.action.share.create': 'Share link created',
  'audit.action.share.open': 'Share link opened',
  'audit.action.share.revoke': 'Share link revoked',
  'audit.action.audit.export': 'Audit log read',
  'audit.action.audit.change_refused': 'Change to the audit log refused',
  'audit.action.audit.retention': 'Old audit entries removed (retention)',
  // Integrations: API keys and webhooks (client/apiKeys.ts, webhooks.ts)
  'integrations.title': 'Integrations',
  'integrations.help': 'Let other systems (access control, a building system, your own scripts) use this service: API keys to call it, webhooks to be told when something happens.',
  'integrations.actions': 'Actions',
  'apiKeys.title': 'API keys',
  'apiKeys.help': 'Each key has one scope and never gets more than the administrator who created it. Systems send it as “Authorization: Bearer <key>”. Every call made with a key is in the audit log.',
  'apiKeys.name': 'Name',
  'apiKeys.scope': 'Scope',
  'apiKeys.scope.read': 'Read only',
  'apiKeys.scope.live': 'Live view',
  'apiKeys.scope.export': 'Export',
  'apiKeys.scope.manage_cameras': 'Manage cameras',
  'apiKeys.scopeHelp.read': 'Camera list, timelines, recordings and playback.',
  'apiKeys.scopeHelp.live': 'Camera list and live view.',
  'apiKeys.scopeHelp.export': 'What read only allows, plus exports and clip downloads.',
  'apiKeys.scopeHelp.manage_cameras': 'Add cameras, rename them, change recording settings and renew camera secrets.',
  'apiKeys.expires': 'Expires on (optional)',
  'apiKeys.expiresHint': 'The key stops working at the end of that day ({zone}). Left empty, it works until revoked.',
  'apiKeys.group': 'Cameras',
  'apiKeys.allCameras': 'All cameras',
  'apiKeys.groupOption': 'Group: {name}',
  'apiKeys.create': 'Create API key',
  'apiKeys.keyOnce': 'API key “{name}”. It is shown only this once and cannot be shown again: copy it now and keep it somewhere safe.',
  'apiKeys.created': 'Created',
  'apiKeys.expiresAt': 'Expires',
  'apiKeys.noExpiry': 'No expiry',
  'apiKeys.lastUsed': 'Last used',
  'apiKeys.never': 'Never',
  'apiKeys.state': 'State',
  'apiKeys.state.active': 'Active',
  'apiKeys.state.expired': 'Expired',
  'apiKeys.state.revoked': 'Revoked',
  'apiKeys.state.holder_gone': 'Suspended (its creator is no longer an administrator)',
  'apiKeys.revoke': 'Revoke',
  'apiKeys.confirmRevoke': 'Revoke the API key “{name}”? Systems using it are refused from their next call. This cannot be undone.',
  'apiKeys.revoked': 'The API key “{name}” was revoked.',
  'apiKeys.none': 'No API keys yet.',
  'apiKeys.error.api_key_name_taken': 'A working API key already has this name. Choose another name, or revoke that key first.',
  'apiKeys.error.group_not_found': 'This camera group no longer exists. Reload the page and choose again.',
  'apiKeys.error.api_key_not_found': 'This API key no longer exists. Reload the page.',
  'webhooks.title': 'Webhooks',
  'webhooks.help': 'When a chosen event happens, the service sends signed JSON (a POST) to the URL. The receiver checks the Mimamori-Signature header with the secret (see “Webhooks” in the README).',
  'webhooks.name': 'Name',
  'webhooks.url': 'URL',
  'webhooks.urlLabel': 'URL (https://)',
  'webhooks.urlPlaceholder': 'https://hooks.example.com/mimamori',
  'webhooks.events': 'Events',
  'webhooks.event.camera.online': 'Camera came online',
  'webhooks.event.camera.offline': 'Camera went offline',
  'webhooks.event.camera.not_recording': 'Camera online but not recording',
  'webhooks.event.recording.gap': 'Gap in a recording',
  'webhooks.event.export.ready': 'Export finished',
  'webhooks.event.export.failed': 'Export failed',
  'webhooks.event.contract.end_scheduled': 'Contract end scheduled',
  'webhooks.event.webhook.test': 'Test event',
  'webhooks.pickEvents': 'Choose at least one event.',
  'webhooks.create': 'Add webhook',
  'webhooks.secretOnce': 'Signing secret of the webhook “{name}”. It is shown only this once: copy it now and set it in the receiving system.',
  'webhooks.secretRotated': 'New signing secret of “{name}”, shown only this once. The old secret no longer works: set the new one in the receiving system.',
  'webhooks.state': 'State',
  'webhooks.on': 'Enabled',
  'webhooks.off': 'Disabled',
  'webhooks.enable': 'Enable',
  'webhooks.disable': 'Disable',
  'webhooks.enabledNow': 'The webhook “{name}” is enabled.',
  'webhooks.disabledNow': 'The webhook “{name}” is disabled: nothing is sent to it.',
  'webhooks.test': 'Send test',
  'webhooks.testOk': 'Test event delivered to “{name}”: HTTP {status} in {ms} ms.',
  'webhooks.testFailed': 'The test event did not reach “{name}”: {reason}',
  'webhooks.deliveries': 'Delivery log',
  'webhooks.reload': 'Reload',
  'webhooks.rotate': 'New secret',
  'webhooks.confirmRotate': 'Give “{name}” a new signing secret? The old one stops at once: the receiving system must be given the new one.',
  'webhooks.delete': 'Delete',
  'webhooks.confirmDelete': 'Delete the webhook “{name}”? Nothing more is sent to it.',
  'webhooks.deleted': 'The webhook “{name}” was deleted.',
  'webhooks.none': 'No webhooks yet.',
  'webhooks.error.webhook_url_refused': 'This URL cannot be used: it must start with https:// and reach a public address. Server: {detail}',
  'webhooks.error.webhook_limit': 'The organisation already has 20 webhooks, the most it may have. Delete one first.',
  'webhooks.error.webhook_not_found': 'This webhook no longer exists. Reload the page.',
  'webhooks.log.title': 'Delivery log of “{name}”',
  'webhooks.log.help': 'The last 50 attempts made by this server, newest first. Kept in memory: empty again after a restart.',
  'webhooks.log.none': 'Nothing sent yet.',
  'webhooks.log.time': 'Time',
  'webhooks.log.event': 'Event',
  'webhooks.log.attempt': 'Attempt',
  'webhooks.log.result': 'Result',
  'webhooks.log.response': 'Response',
  'webhooks.log.duration': 'Duration',
  'webhooks.log.delivered': 'Delivered',
  'webhooks.log.failed': 'Failed',
  'webhooks.log.dropped': 'Dropped (queue full)',
  'webhooks.log.retryAt': 'Retried at {at}',
  'webhooks.log.ms': '{ms} ms',
  'webhooks.log.redirect': 'redirects are not followed; give the final URL',
} as const;

export type MessageKey = keyof typeof en;
type Dictionary = Record<MessageKey, string>;

const ja: Dictionary = {
  'app.name': 'みまもり',
  'nav.live': 'ライブ映像',
  'nav.camera': 'カメラ配信',
  'locale.language': '言語',
  'locale.timeZone': 'タイムゾーン',
  'common.copy': 'コピー',
  'common.copied': 'コピーしました',
  'common.close': '閉じる',
  'common.loading': '読み込み中…',

  'login.title': 'ログイン',
  'login.username': 'ユーザー名',
  'login.password': 'パスワード',
  'login.submit': 'ログイン',
  'login.busy': 'ログイン中…',
  'login.sessionEnded': 'セッションが終了しました。もう一度ログインしてください。',
  'login.signedInAs': '{name}（{role}）',
  'login.logout': 'ログアウト',
  'role.admin': '管理者',
  'role.viewer': '閲覧者',

  'error.invalid_credentials': 'ユーザー名またはパスワードが違います。',
  'error.unauthorized': 'もう一度ログインしてください。',
  'error.token_expired': 'セッションの有効期限が切れました。もう一度ログインしてください。',
  'error.forbidden': 'この操作を行う権限がありません。',
  'error.network': 'サーバーに接続できません。ネットワーク接続を確認して、もう一度お試しください。',
  'error.timeout': 'サーバーから応答がありません。もう一度お試しください。',
  'error.rate_limited': 'リクエストが多すぎます。しばらく待ってからお試しください。',
  'error.username_taken': 'このユーザー名は既に使われています。別の名前を指定してください。',
  'error.invalid_request': '入力内容に誤りがあります: {detail}',
  'error.camera_not_found': 'このカメラは存在しないか、閲覧する権限がありません。',
  'error.user_not_found': 'このユーザーは存在しません。',
  'error.invalid_camera_secret': 'カメラIDまたはシークレットが違います。管理画面からカメラ用リンクをもう一度コピーしてください。',
  'error.internal': 'サーバーで処理できませんでした。しばらくしてからお試しください。',
  'error.generic': 'エラー: {message}',

  'state.connecting': '接続中',
  'state.live': 'ライブ',
  'state.reconnecting': '再接続中',
  'state.offline': 'オフライン',
  'state.denied': '閲覧不可',
  'state.error': 'エラー',

  'grid.layout': 'レイアウト',
  'grid.cameras': 'カメラ一覧',
  'grid.noCameras': '表示できるカメラはまだありません。',
  'grid.noCamerasAdmin': 'カメラはまだありません。下の管理パネルから追加してください。',
  'grid.page': '{page} / {pages} ページ',
  'grid.prev': '前へ',
  'grid.next': '次へ',
  'grid.back': '一覧に戻る',
  'grid.soundOn': '音声オン',
  'grid.soundOff': '消音',
  'grid.open': '{name} を1画面で表示',
  'grid.unsupported': 'このブラウザーではWebRTC映像を再生できません。最新のChrome、Edge、Firefox、Safariをお使いください。',

  'admin.title': '管理',
  'admin.cameras': 'カメラ',
  'admin.cameraName': 'カメラ名',
  'admin.cameraId': 'ID',
  'admin.addCamera': 'カメラを追加',
  'admin.secretOnce': '「{name}」のシークレット（この一度だけ表示されます。安全に保管してください）:',
  'admin.cameraLink': '撮影する端末（スマートフォンやPC）でこのリンクを開くと配信が始まります:',
  'admin.copyLink': 'リンクをコピー',
  'admin.rotate': 'シークレット再発行',
  'admin.confirmRotate': '「{name}」のシークレットを再発行しますか？ 以後、カメラは新しいリンクを使う必要があります。',
  'admin.delete': '削除',
  'admin.confirmDelete': 'カメラ「{name}」とその録画をすべて削除しますか？ 誰も閲覧できなくなり、元に戻せません。',
  'admin.recording': '録画',
  'admin.recordingOn': '常時録画',
  'admin.retention': '録画の保存期間',
  'admin.retentionDays': '{days}日間',
  'admin.recordingSaved': '「{name}」の録画設定を保存しました。',
  // Roles, grants, groups, announcements, organisations, banner (client/people.ts, groups.ts, announcements.ts, orgs.ts, alerts.ts, banner.ts)
  'role.operator': 'オペレーター',
  'right.live': 'ライブ',
  'right.playback': '再生',
  'right.export': '書き出し',
  'right.share': '共有リンク',
  'right.manage': '管理',
  'admin.grace': '旧シークレットの有効期間',
  'admin.graceNone': '旧シークレットを直ちに無効化',
  'admin.graceHours': '旧シークレットを{hours}時間有効',
  'admin.confirmRotateGrace': '「{name}」のシークレットを再発行しますか？ 旧シークレットは{hours}時間使えるので、映像を止めずにカメラを新しいリンクへ切り替えられます。',
  'admin.oldSecretUntil': '旧シークレットは{at}まで使えます。',
  'admin.oldSecretStopped': '旧シークレットは使えなくなりました。',
  'people.help': '閲覧者はライブと録画の視聴、オペレーターは許可されたカメラの書き出し・共有・管理もできます。管理者はすべてのカメラですべての操作ができます。',
  'people.roleOf': '{name}の権限',
  'people.grants': 'アクセス許可',
  'people.confirmRole': '{name}を{role}にしますか？ 次の操作から適用されます。',
  'people.roleChanged': '{name}を{role}にしました。',
  'people.confirmDelete': 'ユーザー「{name}」を削除しますか？ すべての端末でログアウトされ、再ログインできなくなります。',
  'people.unlock': 'ロック解除',
  'people.unlocked': '{name} は再びサインインできます。',
  'people.notLocked': '{name} はロックされていませんでした。',
  'people.signOut': '全端末からサインアウト',
  'people.signedOut': '{name} を {count} 件のセッションからサインアウトしました。ライブ視聴も停止しました。',
  'people.target': 'カメラまたはグループ',
  'people.ceiling': '{role}に許可できる操作: {rights}',
  'people.groupLabel': 'グループ: {name}',
  'people.grantBox': '{user}: {target}の{right}',
  'people.grantSaved': '{name}の{target}へのアクセス許可を保存しました。',
  'people.error.lastAdmin': '組織の最後の管理者です。先に別のユーザーを管理者にしてください。',
  'people.error.selfDelete': '自分のアカウントは削除できません。別の管理者に依頼してください。',
  'people.error.rightNotAllowed': 'この権限ではその操作を許可できません。先に権限を変更してください。',
  'groups.title': 'カメラグループ',
  'groups.help': 'グループ（拠点やフロア）を使うと、1つの許可でそのカメラすべてにアクセスを与えられます。',
  'groups.name': 'グループ名',
  'groups.add': 'グループを追加',
  'groups.none': 'グループはまだありません。',
  'groups.member': '{group}の{camera}',
  'groups.rename': '名前を変更',
  'groups.renamePrompt': 'グループの新しい名前',
  'groups.confirmDelete': 'グループ「{name}」を削除しますか？ グループ経由の許可は無くなります。カメラは残ります。',
  'announce.title': 'お知らせ',
  'announce.kind': '種類',
  'announce.message': '利用者に表示するメッセージ',
  'announce.startsAt': '開始（空欄: 今すぐ）',
  'announce.endsAt': '終了',
  'announce.everyone': '全組織',
  'announce.post': '掲載',
  'announce.posted': 'お知らせを掲載しました。',
  'announce.badRange': '終了は開始より後（かつ未来）にしてください。',
  'announce.none': 'お知らせはありません。',
  'announce.confirmDelete': 'このお知らせを削除しますか？ すべての画面から消えます。',
  'announce.state.future': '掲載予定',
  'announce.state.active': '掲載中',
  'announce.state.ended': '終了',
  'alerts.title': 'オンラインなのに録画されていないカメラ',
  'alerts.notRecording': '{name}: {since}からオンラインですが録画されていません。',
  'alerts.diskFull': '{name}: 録画サーバーのディスクが満杯のため、{since}から録画されていません。',
  'alerts.other': '{name}: {since}から{kind}',
  'orgs.title': '組織',
  'orgs.name': '組織名',
  'orgs.users': 'ユーザー',
  'orgs.adminName': '最初の管理者のユーザー名',
  'orgs.create': '組織を作成',
  'orgs.created': '組織「{name}」を作成しました。',
  'orgs.contractEnd': '契約終了（データ削除）',
  'orgs.contractEndOf': '{name}の契約終了日時',
  'orgs.schedule': '契約終了を設定',
  'orgs.cancel': '契約終了を取り消す',
  'orgs.confirmSchedule': '「{name}」の契約を{date}に終了しますか？ それまで利用者に通知され、その後すべての録画・カメラ・アカウントが削除されます。',
  'orgs.badDate': '未来の日時を選んでください。',
  'orgs.own': '自分の組織',
  'orgs.reports': '削除済みの組織',
  'orgs.noReports': 'まだありません。',
  'orgs.report': '{name}: {at}に削除（ユーザー{users}人、カメラ{cameras}台、保存オブジェクト{objects}件）',
  'admin.nodes.title': 'ノード（サーバー）',
  'admin.nodes.help': 'このサービスを動かしているサーバーの一覧です（3秒ごとに更新）。保守作業の前にノードを「停止準備（ドレイン）」すると、そのノードはロードバランサーから外れ、担当カメラを1台ずつ他のノードへ移してから停止します。',
  'admin.nodes.node': 'ノード',
  'admin.nodes.state': '状態',
  'admin.nodes.release': 'バージョン',
  'admin.nodes.owns': '担当カメラ',
  'admin.nodes.viewers': '視聴者',
  'admin.nodes.recording': '録画中',
  'admin.nodes.started': '起動日時',
  'admin.nodes.self': 'このノード',
  'admin.nodes.selfHint': 'この一覧を返したノード（このページの接続先）',
  'admin.nodes.state.up': '稼働中',
  'admin.nodes.state.draining': '停止準備中（ドレイン）',
  'admin.nodes.state.dead': '応答なし',
  'admin.nodes.state.stopped': '停止（ドレイン済み）',
  'admin.nodes.silent': '{seconds}秒間応答がありません',
  'admin.nodes.left': '残りカメラ{count}台',
  'admin.nodes.drainingLeft': 'ノード {node} は停止準備中（ドレイン）です: 移動待ちのカメラは残り{count}台です。',
  'admin.nodes.drainingDone': 'ノード {node} は停止準備中（ドレイン）です: すべてのカメラの移動が終わりました。まもなく停止します。',
  'admin.nodes.none': 'ノードがありません。',
  'admin.nodes.drain': '停止準備（ドレイン）',
  'admin.nodes.confirmDrain': 'ノード {node} を停止準備（ドレイン）しますか？ ロードバランサーから外し、担当カメラ{count}台を1台ずつ他のノードへ移し、視聴者も他のノードへ切り替えてから停止します。開始後は取り消せません。\n\n理由（任意・監査ログに記録されます）:',
  'admin.nodes.drainStarted': 'ノード {node} の停止準備（ドレイン）を開始しました。ロードバランサーから外れ、カメラを順に移しています。',
  'admin.nodes.error.not_clustered': 'このサービスは1台のノードだけで動いているため、カメラの移し先となる他のノードがなく、停止準備（ドレイン）はできません。（サーバーからの説明: {detail}）',
  'admin.nodes.error.node_not_found': 'このノードはクラスターにありません（既に停止した可能性があります）。（サーバーからの説明: {detail}）',
  'admin.nodes.error.node_unreachable': 'ノードが要求を受け付けませんでした。ノードの状態を確認して、もう一度お試しください。（サーバーからの説明: {detail}）',
  'banner.kind.maintenance': 'メンテナンス',
  'banner.kind.incident': '障害',
  'banner.kind.info': 'お知らせ',
  'banner.kind.contract_end': 'ご契約終了',
  'banner.until': '{message}（{until}まで）',
  'banner.contractEnd': 'この組織のご契約は{date}に終了します。終了時に、すべての録画・カメラ・アカウントが削除されます。必要な映像はそれまでに書き出してください。',
  'banner.dismiss': '閉じる',
  'admin.users': 'ユーザーと閲覧権限',
  'admin.username': 'ユーザー名',
  'admin.password': 'パスワード（10文字以上）',
  'admin.role': '権限',
  'admin.addUser': 'ユーザーを追加',
  'admin.userAdded': 'ユーザー「{name}」を追加しました。',
  'admin.allCameras': '全カメラ',
  'admin.grant': '{user} に {camera} の閲覧を許可',
  'admin.noCameras': 'カメラはまだありません。',
  'admin.publishHere': 'この端末から配信',

  'camera.title': 'カメラ配信',
  'camera.pick': '配信するカメラを選んでください:',
  'camera.start': '配信開始',
  'camera.needLink': '管理画面のカメラ用リンクをこの端末で開くか、管理者としてログインしてください。',
  'camera.name': 'カメラ: {name}',
  'camera.state.idle': '待機中',
  'camera.state.starting': 'カメラを起動中',
  'camera.state.connecting': '接続中',
  'camera.state.live': '配信中',
  'camera.state.reconnecting': '再接続中',
  'camera.state.stopped': '停止',
  'camera.stopped.replaced': 'このカメラは別の端末から配信を始めたため、この端末での配信を停止しました。',
  'camera.stopped.deleted': 'このカメラは管理者によって削除されました。',
  'camera.stopped.other': 'サーバーがこのカメラの配信を停止しました: {reason}',
  'camera.state.error': '停止',
  'camera.resume': 'この端末で配信を再開',
  'camera.bitrate': '{kbps} kbit/s',
  'camera.stats': '{codec} · {width}×{height} · {kbps} kbit/s',
  'camera.since': '{time} から配信中',
  'camera.error.permission': 'カメラまたはマイクへのアクセスが拒否されました。ブラウザーの設定で許可してから、このページを再読み込みしてください。',
  'camera.error.noDevice': 'この端末にカメラまたはマイクが見つかりません。',
  'camera.error.insecure': 'カメラを使うには安全な接続が必要です。https:// でこのページを開いてください。',
  'camera.error.unsupported': 'このブラウザーはWebRTCでの映像配信に対応していません。最新のChrome、Edge、Firefox、Safariをお使いください。',
  'camera.error.media': 'カメラを起動できませんでした: {message}',
  'nav.playback': '録画再生',
  'playback.speed': '再生速度',
  'playback.liveEdge': '現在まで（録画中）',
  'playback.noMore': '{at} 以降の録画はありません。',
  'playback.waitingForMore': '{at} 以降の録画を待っています…',
  'playback.error': '再生できませんでした: {message}',
  'playback.retrying': '再生が中断しました。再試行しています…',
  'playback.unsupported': 'このブラウザーでは録画を再生できません。最新のChrome、Edge、Firefox、Safariをお使いください。',
  'playback.gapAt': '{asked} の録画はありません（{reason}）。{start} から再生します。',
  'playback.skipped': '{from}〜{to} をスキップしました（{reason}）。',
  'gap.camera-offline': 'カメラがオフライン',
  'gap.frames-lost': '映像の欠落',
  'gap.recorder-down': '録画サーバー停止',
  'gap.spool-overflow': '録画サーバーの一時領域不足',
  'gap.disk-full': '録画サーバーのディスク不足',
  'gap.clock-drift': 'カメラの時刻ずれを補正',
  'gap.producer-changed': 'カメラの再起動',
  'gap.node-failed': '録画サーバーの障害（別のサーバーが引き継ぎ）',
  'gap.unrecorded': '録画なし',
  'gap.recording-off': '録画オフ',
  'gap.recovered': '障害から復旧',
  'timeline.label': 'タイムライン',
  'timeline.zoom': '表示範囲',
  'timeline.day': '日',
  'timeline.hour': '時間',
  'timeline.minute': '分',
  'timeline.earlier': '前へ',
  'timeline.later': '後へ',
  'timeline.date': '日付を指定',
  'timeline.gap': '録画なし {from}〜{to}: {reason}',
  'event.camera-online': 'カメラがオンライン',
  'event.camera-offline': 'カメラがオフライン',
  'event.resolution-change': '解像度が {detail} に変更',
  'event.hold': '保全指定',
  'grid.recordings': '録画',
  'grid.recordingsOf': '{name} の録画',
  'grid.layoutSaveFailed': 'レイアウトをサーバーに保存できませんでした。このブラウザーにのみ保存されます。',
  'marks.in': '開始点',
  'marks.out': '終了点',
  'marks.clear': 'マークを解除',
  'marks.none': '再生位置で開始点と終了点を指定すると、書き出しや共有ができます。',
  'marks.half': '開始点と終了点の両方を指定してください（終了点は開始点より後）。',
  'marks.range': '{range}（{duration}）',
  'export.title': '書き出し',
  'export.name': 'ファイル名（任意）',
  'export.create': '書き出す',
  'export.downloadNow': '今すぐダウンロード',
  'export.needMarks': '先に範囲を指定してください。',
  'export.tooLong': '範囲が長すぎて書き出せません（最長24時間）。',
  'export.longRange': '{range}: {minutes}分を超えるため、「書き出す」をご利用ください（サーバーで処理し、完了後にダウンロードできます）。',
  'export.ready': '{range}: 今すぐダウンロードするか、書き出して後でダウンロードできます。',
  'export.started': '書き出し「{name}」を開始しました。',
  'export.list': '書き出したファイル',
  'export.none': '書き出したファイルはまだありません。',
  'export.delete': '削除',
  'export.confirmDelete': '書き出し「{name}」を削除しますか？',
  'export.done': '完了 {size} · {duration}',
  'export.download': 'ダウンロード',
  'export.failed': '失敗: {message}',
  'export.queued': '待機中…',
  'export.running': '{percent}%',
  'export.progress': '書き出しの進み具合 {percent}%',
  'export.gaps': '録画のない区間 {count} か所',
  'share.title': '共有',
  'share.kind': '共有する内容',
  'share.kind.clip': 'クリップ（開始点〜終了点）',
  'share.kind.live': 'ライブ映像',
  'share.expiry': '有効期間',
  'share.expiry.1': '1時間',
  'share.expiry.24': '24時間',
  'share.expiry.168': '7日間',
  'share.password': 'パスワード（任意）',
  'share.create': '共有リンクを作成',
  'share.needMarks': 'クリップを共有するには先に範囲を指定してください。',
  'share.created': '共有リンクを作成しました（{expires} まで有効）:',
  'share.copy': 'リンクをコピー',
  'share.passwordNote': 'パスワードはリンクとは別の方法で伝えてください。',
  'share.list': '作成した共有リンク',
  'share.none': '共有リンクはまだありません。',
  'share.revoke': '無効にする',
  'share.confirmRevoke': 'この共有リンクを無効にしますか？ 利用中の人もすぐに見られなくなります。',
  'share.state.active': '{expires} まで有効',
  'share.state.expired': '{expires} に期限切れ',
  'share.state.revoked': '無効化済み',
  'share.uses': '{uses} 回開かれました',
  'share.hasPassword': 'パスワード付き',
  'playback.camera': 'カメラ',
  'playback.mode': '録画／ライブ',
  'playback.mode.recorded': '録画',
  'playback.mode.live': 'ライブ',
  'kiosk.connecting': 'サーバーに接続しています…',
  'kiosk.reconnecting': '接続が切れました。再接続しています…',
  'kiosk.revoked': 'この表示端末は管理者によって無効にされました。',
  'kiosk.noToken': '表示端末用のリンクが不完全です。管理画面からリンク全体を開いてください。',
  'kiosk.noCameras': 'この表示端末に割り当てられたカメラはありません。',
  'kiosk.state.connecting': '接続中…',
  'kiosk.state.live': 'ライブ',
  'kiosk.state.offline': 'カメラがオフラインです',
  'kiosk.state.reconnecting': '再接続中…',
  'kiosk.state.denied': '表示できません',
  'kiosk.state.error': 'このカメラを再生できません',
  'sharePage.title': '共有された映像',
  'sharePage.open': '開く',
  'sharePage.needsPassword': 'この共有リンクはパスワードで保護されています。',
  'sharePage.wrongPassword': 'パスワードが違います。もう一度入力してください。',
  'sharePage.clipRange': 'クリップ {range} · リンクの有効期限 {expires}',
  'sharePage.download': 'クリップをダウンロード',
  'sharePage.retry': '再試行',
  'sharePage.expired': 'この共有リンクは有効期限が切れています。',
  'sharePage.revoked': 'この共有リンクは共有した人によって無効にされました。',
  'sharePage.not_found': 'この共有リンクは存在しません。リンク全体がコピーされているか確認してください。',
  'sharePage.too_many_attempts': 'パスワードの誤りが多すぎます。しばらく待ってからお試しください。',
  'kiosk.admin.title': '表示端末（キオスク）',
  'kiosk.admin.help': 'ログインせずに選んだカメラを表示する壁掛け画面です。表示端末でリンクを一度開いてください。',
  'kiosk.admin.name': '表示端末の名前',
  'kiosk.admin.cameras': 'カメラ',
  'kiosk.admin.layout': 'レイアウト',
  'kiosk.admin.rotate': 'ページ切替（秒）',
  'kiosk.admin.seconds': '{seconds}秒',
  'kiosk.admin.create': '表示端末を追加',
  'kiosk.admin.pickCameras': 'カメラを1台以上選んでください。',
  'kiosk.admin.linkOnce': '表示端末「{name}」のリンク（この一度だけ表示されます）。表示端末で開いてください:',
  'kiosk.admin.none': '表示端末はまだありません。',
  'kiosk.admin.newLink': 'リンク再発行',
  'kiosk.admin.confirmNewLink': '「{name}」のリンクを再発行しますか？ 新しいリンクを開くまで表示端末は停止します。',
  'kiosk.admin.revoke': '無効にする',
  'kiosk.admin.confirmRevoke': '表示端末「{name}」を無効にしますか？ 画面はすぐに停止します。',

  // Accounts (client/account.ts)
  'account.title': 'アカウントとセキュリティ',
  'account.sessions': '{count} 台の端末・ブラウザーでログインしています。',
  'account.logoutAll': 'すべての端末からログアウト',
  'account.logoutAllConfirm': 'この端末を含むすべての端末・ブラウザーからログアウトしますか？ それらのライブ映像はすぐに停止します。',
  'account.totp.title': '2段階認証',
  'account.totp.off': '無効です。有効にすると、ログイン時にスマートフォンの認証アプリに表示される6桁のコードも入力します。',
  'account.totp.on': '有効です。無効にするには、パスワードと現在のコードを入力してください。',
  'account.totp.start': '2段階認証を設定する',
  'account.totp.scan': 'このキーを認証アプリに追加し（認証アプリのあるスマートフォンではリンクを開いてください）、表示されたコードを入力してください。',
  'account.totp.openApp': '認証アプリで開く',
  'account.totp.code': '認証コード（6桁）',
  'account.totp.confirm': '有効にする',
  'account.totp.enabled': '2段階認証を有効にしました。',
  'account.totp.disable': '無効にする',
  'account.totp.disabled': '2段階認証を無効にしました。',
  'account.password.title': 'パスワードの変更',
  'account.password.rule': '12文字以上。関係のない単語をいくつか並べると良いパスワードになります。ユーザー名やよく使われるパスワードは使えません。',
  'account.password.current': '現在のパスワード',
  'account.password.next': '新しいパスワード',
  'account.password.submit': 'パスワードを変更',
  'account.password.changed': '{at} にパスワードを変更しました。他の端末はログアウトされました。',
  'account.error.account_locked': 'ログインの失敗が多すぎるため、このアカウントは一時的にロックされています。15分ほど待つか、管理者にロック解除を依頼してください。',
  'account.error.too_many_attempts': 'このネットワークからのログイン失敗が多すぎます。しばらく待ってからお試しください。',
  'account.error.totp_required': '認証アプリに表示される6桁のコードを入力してください。',
  'account.error.totp_invalid': 'コードが違うか、既に使われています。認証アプリに表示されている現在のコードを入力してください。',
  'account.error.weak_password': 'このパスワードは使えません: {detail}',
  'account.error.wrong_password': '現在のパスワードが違います。',
  'account.error.session_revoked': 'ログアウトされました（この端末、またはすべての端末）。もう一度ログインしてください。',
  'account.error.session_expired': 'セッションが終了しました。もう一度ログインしてください。',
  'account.error.refresh_reused': 'このログインが2か所から使われたため、安全のため終了しました。もう一度ログインしてください。',
  'account.error.totp_already_enabled': '2段階認証は既に有効です。',
  // 監査ログ (client/audit.ts)
  'audit.title': '監査ログ',
  'audit.help': 'ログイン、ライブ視聴、再生、書き出し、共有リンク、権限・設定の変更をすべて記録します（操作者・カメラ・日時・接続元）。記録は編集・削除できません。',
  'audit.from': '開始日',
  'audit.to': '終了日',
  'audit.actor': '操作者',
  'audit.actorHint': 'u:<ユーザーID>、s:<共有>、k:<キオスク>、a:<APIキー>',
  'audit.action': '操作',
  'audit.camera': 'カメラ',
  'audit.outcome': '結果',
  'audit.time': '日時',
  'audit.ip': '接続元',
  'audit.detail': '詳細',
  'audit.any': 'すべて',
  'audit.search': '検索',
  'audit.more': 'さらに古い記録を表示',
  'audit.exportCsv': 'CSVで書き出す',
  'audit.none': '該当する記録はありません。',
  'audit.badRange': '終了日は開始日以降の日付を指定してください。',
  'audit.outcome.ok': '成功',
  'audit.outcome.refused': '拒否',
  'audit.outcome.error': '失敗',
  'audit.actions.auth': 'ログイン・セキュリティ',
  'audit.actions.live': 'ライブ視聴',
  'audit.actions.playback': '再生',
  'audit.actions.export': '書き出し',
  'audit.actions.share': '共有リンク',
  'audit.actions.grant': '権限',
  'audit.actions.camera': 'カメラ設定',
  'audit.actions.user': 'ユーザー',
  'audit.actions.kiosk': 'キオスク表示',
  'audit.actions.audit': '監査ログ',
  'audit.action.auth.login': 'ログイン',
  'audit.action.auth.login_failed': 'ログイン失敗',
  'audit.action.auth.lockout': 'アカウントロック',
  'audit.action.live.view': 'ライブ視聴',
  'audit.action.playback.start': '再生',
  'audit.action.export.create': '書き出し',
  'audit.action.export.download': 'ダウンロード',
  'audit.action.share.create': '共有リンク作成',
  'audit.action.share.open': '共有リンク利用',
  'audit.action.share.revoke': '共有リンク無効化',
  'audit.action.audit.export': '監査ログの閲覧',
  'audit.action.audit.change_refused': '監査ログの変更を拒否',
  'audit.action.audit.retention': '保存期間を過ぎた監査ログの削除',
  // 連携: APIキーとWebhook (client/apiKeys.ts, webhooks.ts)
  'integrations.title': '連携',
  'integrations.help': '入退室管理や設備管理などの外部システム、独自のスクリプトからこのサービスを利用できます。APIキーで外部から呼び出し、Webhookで出来事を外部に通知します。',
  'integrations.actions': '操作',
  'apiKeys.title': 'APIキー',
  'apiKeys.help': 'キーごとに権限の範囲を1つ選びます。作成した管理者の権限を超えることはありません。外部システムは「Authorization: Bearer <キー>」として送信します。キーによる操作はすべて監査ログに記録されます。',
  'apiKeys.name': '名前',
  'apiKeys.scope': '権限の範囲',
  'apiKeys.scope.read': '閲覧のみ',
  'apiKeys.scope.live': 'ライブ視聴',
  'apiKeys.scope.export': '書き出し',
  'apiKeys.scope.manage_cameras': 'カメラ管理',
  'apiKeys.scopeHelp.read': 'カメラ一覧、タイムライン、録画の参照と再生。',
  'apiKeys.scopeHelp.live': 'カメラ一覧とライブ映像の視聴。',
  'apiKeys.scopeHelp.export': '「閲覧のみ」に加えて、書き出しとクリップのダウンロード。',
  'apiKeys.scopeHelp.manage_cameras': 'カメラの追加、名前の変更、録画設定の変更、カメラのシークレットの再発行。',
  'apiKeys.expires': '有効期限（任意）',
  'apiKeys.expiresHint': '指定日の終わり（{zone}）まで有効です。空欄の場合は失効させるまで有効です。',
  'apiKeys.group': '対象カメラ',
  'apiKeys.allCameras': 'すべてのカメラ',
  'apiKeys.groupOption': 'グループ: {name}',
  'apiKeys.create': 'APIキーを作成',
  'apiKeys.keyOnce': 'APIキー「{name}」です。このキーは今回だけ表示され、二度と表示できません。今すぐコピーして安全な場所に保管してください。',
  'apiKeys.created': '作成日時',
  'apiKeys.expiresAt': '有効期限',
  'apiKeys.noExpiry': 'なし',
  'apiKeys.lastUsed': '最終使用',
  'apiKeys.never': '未使用',
  'apiKeys.state': '状態',
  'apiKeys.state.active': '有効',
  'apiKeys.state.expired': '期限切れ',
  'apiKeys.state.revoked': '失効済み',
  'apiKeys.state.holder_gone': '停止中（作成者が管理者ではなくなりました）',
  'apiKeys.revoke': '失効',
  'apiKeys.confirmRevoke': 'APIキー「{name}」を失効させますか？ このキーを使うシステムは次の呼び出しから拒否されます。この操作は元に戻せません。',
  'apiKeys.revoked': 'APIキー「{name}」を失効させました。',
  'apiKeys.none': 'APIキーはまだありません。',
  'apiKeys.error.api_key_name_taken': '同じ名前の有効なAPIキーがあります。別の名前にするか、先にそのキーを失効させてください。',
  'apiKeys.error.group_not_found': 'このカメラグループは存在しません。ページを再読み込みして選び直してください。',
  'apiKeys.error.api_key_not_found': 'このAPIキーは存在しません。ページを再読み込みしてください。',
  'webhooks.title': 'Webhook',
  'webhooks.help': '選んだ出来事が起きると、署名付きのJSONを指定のURLへ送信（POST）します。受信側では Mimamori-Signature ヘッダーをシークレットで検証してください（READMEの「Webhooks」を参照）。',
  'webhooks.name': '名前',
  'webhooks.url': '送信先URL',
  'webhooks.urlLabel': '送信先URL（https://）',
  'webhooks.urlPlaceholder': 'https://hooks.example.com/mimamori',
  'webhooks.events': '通知する出来事',
  'webhooks.event.camera.online': 'カメラがオンラインになった',
  'webhooks.event.camera.offline': 'カメラがオフラインになった',
  'webhooks.event.camera.not_recording': 'オンラインなのに録画されていない',
  'webhooks.event.recording.gap': '録画に欠落が発生した',
  'webhooks.event.export.ready': '書き出しが完了した',
  'webhooks.event.export.failed': '書き出しに失敗した',
  'webhooks.event.contract.end_scheduled': '契約終了が予定された',
  'webhooks.event.webhook.test': 'テスト送信',
  'webhooks.pickEvents': '通知する出来事を1つ以上選んでください。',
  'webhooks.create': 'Webhookを追加',
  'webhooks.secretOnce': 'Webhook「{name}」の署名シークレットです。今回だけ表示されます。今すぐコピーして受信側のシステムに設定してください。',
  'webhooks.secretRotated': '「{name}」の新しい署名シークレットです（今回だけ表示されます）。古いシークレットはすでに無効なので、受信側の設定を変更してください。',
  'webhooks.state': '状態',
  'webhooks.on': '有効',
  'webhooks.off': '無効',
  'webhooks.enable': '有効にする',
  'webhooks.disable': '無効にする',
  'webhooks.enabledNow': 'Webhook「{name}」を有効にしました。',
  'webhooks.disabledNow': 'Webhook「{name}」を無効にしました。通知は送信されません。',
  'webhooks.test': 'テスト送信',
  'webhooks.testOk': '「{name}」へのテスト送信に成功しました（HTTP {status}、{ms} ms）。',
  'webhooks.testFailed': '「{name}」へのテスト送信に失敗しました: {reason}',
  'webhooks.deliveries': '配信履歴',
  'webhooks.reload': '再読み込み',
  'webhooks.rotate': 'シークレット再発行',
  'webhooks.confirmRotate': '「{name}」の署名シークレットを再発行しますか？ 古いシークレットはすぐに無効になるため、受信側の設定を新しいものに変更する必要があります。',
  'webhooks.delete': '削除',
  'webhooks.confirmDelete': 'Webhook「{name}」を削除しますか？ 以後、通知は送信されません。',
  'webhooks.deleted': 'Webhook「{name}」を削除しました。',
  'webhooks.none': 'Webhookはまだありません。',
  'webhooks.error.webhook_url_refused': 'このURLは使用できません。https:// で始まり、インターネット上の公開アドレスに届くURLを指定してください。サーバーからの説明: {detail}',
  'webhooks.error.webhook_limit': 'Webhookは1組織あたり20件までです。先にどれかを削除してください。',
  'webhooks.error.webhook_not_found': 'このWebhookは存在しません。ページを再読み込みしてください。',
  'webhooks.log.title': '「{name}」の配信履歴',
  'webhooks.log.help': 'このサーバーからの直近50件の送信です（新しい順）。メモリ上に保持しているため、再起動すると空になります。',
  'webhooks.log.none': 'まだ送信していません。',
  'webhooks.log.time': '日時',
  'webhooks.log.event': 'イベント',
  'webhooks.log.attempt': '試行',
  'webhooks.log.result': '結果',
  'webhooks.log.response': '応答',
  'webhooks.log.duration': '所要時間',
  'webhooks.log.delivered': '成功',
  'webhooks.log.failed': '失敗',
  'webhooks.log.dropped': '破棄（キューが満杯）',
  'webhooks.log.retryAt': '{at} に再送',
  'webhooks.log.ms': '{ms} ms',
  'webhooks.log.redirect': 'リダイレクトには従いません。最終的なURLを指定してください',
};

export type Lang = 'ja' | 'en';
export const LANGS: readonly Lang[] = ['ja', 'en'];
const LANG_NAMES: Record<Lang, string> = { ja: '日本語', en: 'English' };
const dictionaries: Record<Lang, Dictionary> = { ja, en };

export type Params = Record<string, string | number>;

const LANG_KEY = 'mimamori.lang';
const TZ_KEY = 'mimamori.timeZone';
export const DEFAULT_TIME_ZONE = 'Asia/Tokyo';

/** Japanese if any preferred language of the browser is Japanese, English otherwise. */
export function detectLang(languages: readonly string[]): Lang {
  return languages.some((l) => l.toLowerCase().startsWith('ja')) ? 'ja' : 'en';
}

function isLang(v: string | null): v is Lang {
  return v === 'ja' || v === 'en';
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

let currentLang: Lang = (() => {
  const saved = storage.get(LANG_KEY);
  return isLang(saved) ? saved : detectLang(navigator.languages?.length ? navigator.languages : [navigator.language]);
})();
let currentTimeZone: string = (() => {
  const saved = storage.get(TZ_KEY);
  return saved && isValidTimeZone(saved) ? saved : DEFAULT_TIME_ZONE;
})();
const listeners = new Set<() => void>();

export function lang(): Lang {
  return currentLang;
}
export function timeZone(): string {
  return currentTimeZone;
}

/** The BCP 47 locale for Intl: ja-JP, or the browser's own English variant (en-US by default). */
export function locale(): string {
  if (currentLang === 'ja') return 'ja-JP';
  return navigator.languages?.find((l) => l.toLowerCase().startsWith('en')) ?? 'en-US';
}

export function t(key: MessageKey, params?: Params): string {
  const template = dictionaries[currentLang][key] ?? en[key];
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

/** Whether a key exists (for codes from the server, e.g. gap reasons, that may be new to us). */
export function hasMessage(key: string): key is MessageKey {
  return key in en;
}

/** Called after the language or the time zone changed (for text that is not bound). */
export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed(): void {
  document.documentElement.lang = currentLang;
  document.title = t('app.name') + (document.body?.dataset.titleKey ? ` — ${t(document.body.dataset.titleKey as MessageKey)}` : '');
  applyTranslations(document);
  for (const l of [...listeners]) {
    try {
      l();
    } catch (err) {
      console.error('locale listener failed', err);
    }
  }
}

export function setLang(next: Lang): void {
  if (next === currentLang) return;
  currentLang = next;
  storage.set(LANG_KEY, next);
  changed();
}

export function setTimeZone(tz: string): void {
  if (!isValidTimeZone(tz) || tz === currentTimeZone) return;
  currentTimeZone = tz;
  storage.set(TZ_KEY, tz);
  changed();
}

export type DateStyle = 'datetime' | 'date' | 'time' | 'short' | 'clock' | 'hm' | 'monthDay';
const STYLES: Record<DateStyle, Intl.DateTimeFormatOptions> = {
  datetime: { dateStyle: 'medium', timeStyle: 'medium' },
  date: { dateStyle: 'medium' },
  time: { timeStyle: 'medium' },
  /** A date and a time to the minute, for lists. */
  short: { dateStyle: 'short', timeStyle: 'short' },
  /** 24-hour time with seconds (timeline hover, player clock). */
  clock: { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' },
  /** 24-hour time to the minute (timeline ticks). */
  hm: { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
  /** Month and day (timeline ticks at day boundaries). */
  monthDay: { month: 'numeric', day: 'numeric', weekday: 'short' },
};

/** Intl formatters are costly to build and the timeline formats on every frame: kept per locale/zone/style. */
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(loc: string, tz: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${loc}|${tz}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    if (formatters.size >= 64) formatters.clear(); // a few zones × styles; never grows without bound
    f = new Intl.DateTimeFormat(loc, { ...options, timeZone: tz });
    formatters.set(key, f);
  }
  return f;
}

/** A date/time in the viewer's time zone and the language's own date format. */
export function formatDateTime(value: Date | number | string, style: DateStyle = 'datetime'): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return '';
  return formatter(locale(), currentTimeZone, STYLES[style]).format(date);
}

/** "from – to" in the viewer's zone; the second date is left out when both are on the same day. */
export function formatRange(fromMs: number, toMs: number): string {
  const sameDay = dateInputValue(fromMs) === dateInputValue(toMs);
  return `${formatDateTime(fromMs, 'datetime')} – ${formatDateTime(toMs, sameDay ? 'clock' : 'datetime')}`;
}

/** A length of time as h:mm:ss (or m:ss), the same in both languages. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The calendar fields of an instant in the viewer's time zone. */
export function zonedParts(ms: number, tz: string = currentTimeZone): ZonedParts {
  const parts = formatter('en-US', tz, {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** How far the viewer's zone is ahead of UTC at that instant (ms; +9 h for Tokyo). */
export function zoneOffsetMs(ms: number, tz: string = currentTimeZone): number {
  const p = zonedParts(ms, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant of a wall-clock time in the viewer's zone (the later one across a DST change). */
export function zonedToMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, tz: string = currentTimeZone): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  let t = asUtc - zoneOffsetMs(asUtc, tz);
  t = asUtc - zoneOffsetMs(t, tz);
  return t;
}

/** YYYY-MM-DD of the instant in the viewer's zone (the value of an `<input type=date>`). */
export function dateInputValue(ms: number): string {
  const p = zonedParts(ms);
  return `${String(p.year).padStart(4, '0')}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The start (00:00 in the viewer's zone) of the day an `<input type=date>` names. */
export function parseDateInput(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  return zonedToMs(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** The start of the viewer's day that contains the instant. */
export function startOfDay(ms: number): number {
  const p = zonedParts(ms);
  return zonedToMs(p.year, p.month, p.day);
}

// --- Bound elements -----------------------------------------------------------------------------

interface Binding {
  key: MessageKey;
  params?: Params;
}
const bindings = new WeakMap<Element, { text?: Binding; attrs: Map<string, Binding> }>();

function bindingOf(el: Element) {
  let b = bindings.get(el);
  if (!b) bindings.set(el, (b = { attrs: new Map() }));
  el.setAttribute('data-i18n', '');
  return b;
}

/** Sets the element's text now and again whenever the language changes. */
export function bindText<E extends Element>(el: E, key: MessageKey, params?: Params): E {
  bindingOf(el).text = { key, params };
  el.textContent = t(key, params);
  return el;
}

/** Same for an attribute (placeholder, title, aria-label). */
export function bindAttr<E extends Element>(el: E, attr: string, key: MessageKey, params?: Params): E {
  bindingOf(el).attrs.set(attr, { key, params });
  el.setAttribute(attr, t(key, params));
  return el;
}

export function applyTranslations(root: ParentNode): void {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    const b = bindings.get(el);
    if (!b) continue;
    if (b.text) el.textContent = t(b.text.key, b.text.params);
    for (const [attr, { key, params }] of b.attrs) el.setAttribute(attr, t(key, params));
  }
}

// --- Controls -----------------------------------------------------------------------------------

const COMMON_ZONES = [
  'Asia/Tokyo',
  'UTC',
  'Asia/Seoul',
  'Asia/Shanghai',
  'Asia/Taipei',
  'Asia/Singapore',
  'Asia/Bangkok',
  'Asia/Kolkata',
  'Australia/Sydney',
  'Europe/London',
  'Europe/Berlin',
  'America/New_York',
  'America/Los_Angeles',
  'Pacific/Honolulu',
];

function labelled(key: MessageKey, control: HTMLSelectElement): HTMLLabelElement {
  const label = document.createElement('label');
  label.className = 'locale-control';
  const span = bindText(document.createElement('span'), key);
  span.className = 'visually-hidden-sm';
  label.append(span, control);
  return label;
}

/** The language and time-zone selectors every page shows in its header. */
export function localeControls(): HTMLElement {
  const box = document.createElement('div');
  box.className = 'locale-controls';

  const langSelect = document.createElement('select');
  langSelect.id = 'lang-select';
  for (const l of LANGS) langSelect.add(new Option(LANG_NAMES[l], l, false, l === currentLang));
  langSelect.addEventListener('change', () => {
    if (isLang(langSelect.value)) setLang(langSelect.value);
  });

  const tzSelect = document.createElement('select');
  tzSelect.id = 'tz-select';
  const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zones = [...new Set([currentTimeZone, ...COMMON_ZONES, ...(own ? [own] : [])])].filter(isValidTimeZone);
  for (const z of zones) tzSelect.add(new Option(z.replace(/_/g, ' '), z, false, z === currentTimeZone));
  tzSelect.addEventListener('change', () => setTimeZone(tzSelect.value));

  box.append(labelled('locale.language', langSelect), labelled('locale.timeZone', tzSelect));
  return box;
}

/** Applies the language to <html lang> and the title once at start-up. */
export function initI18n(titleKey?: MessageKey): void {
  if (titleKey) document.body.dataset.titleKey = titleKey;
  document.documentElement.lang = currentLang;
  document.title = t('app.name') + (titleKey ? ` — ${t(titleKey)}` : '');
}
