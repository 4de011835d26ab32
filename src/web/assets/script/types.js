// @ts-check

// The admin API's answers, as the admin page reads them (src/admin/*.ts has the server's types). Types
// only: the other scripts name them with `/** @import { Feed } from './types.js' */`.

/**
 * @typedef {object} Run  A feed's last sync run.
 * @property {string} outcome  completed, partial or failed
 * @property {string} finishedAt
 * @property {string} [message]
 * @property {number} created
 * @property {number} updated
 * @property {number} cancelled
 * @property {number} unchanged
 * @property {number} blocked
 * @property {number} failed
 * @property {number} held
 */
/** @typedef {'created' | 'updated' | 'cancelled' | 'unchanged' | 'blocked' | 'failed' | 'held'} RunCount */
/**
 * @typedef {object} Guard  The deletion guard's state of a feed.
 * @property {boolean} held
 * @property {string | null} [reason]
 * @property {number} wouldCancel
 * @property {number} futureMeetings
 */
/**
 * @typedef {object} CreationGuard  The creation guard's hold of a feed's new meetings.
 * @property {boolean} held
 * @property {string[]} reasons
 * @property {number} wouldCreate
 * @property {number} heldCreates
 * @property {Array<{ uid: string, summary: string, sessions: number, line?: number | null }>} events
 * @property {string} [warning]  the upload's sentence about it
 */
/**
 * @typedef {object} Feed  A feed: GET /api/feeds gives its settings, GET /api/status its state.
 * @property {string} id
 * @property {boolean} [enabled]
 * @property {string} [source]
 * @property {string | null} [url]
 * @property {string | null} [defaultOrganizer]
 * @property {Run | null} [lastRun]
 * @property {{ active?: number, blocked?: number, failed?: number, cancelled?: number }} [meetings]
 * @property {Guard | null} [guard]
 * @property {CreationGuard | null} [creationGuard]
 * @property {string | null} [nextRetryAt]
 */
/**
 * @typedef {object} Status  GET /api/status
 * @property {Feed[]} feeds
 * @property {Array<{ code: string, sessions: number, example: string | null }>} [blocked]
 * @property {{ count: number, feedIds: string[] }} [poison]
 * @property {Credential} [credential]
 */
/**
 * @typedef {{ kind?: string, expiresAt: string, daysLeft: number }
 *   | { kind?: string, expiresAt?: null, daysLeft?: null }} Credential  The Graph credential; certificates
 *   whose PEM includes the certificate itself have an expiry.
 */
/** @typedef {{ feeds?: Feed[] }} FeedList  GET /api/feeds */
/** @typedef {{ webcal?: string, ics?: string, json?: string }} CalendarLinks */
/** @typedef {{ feed: Feed, calendar?: CalendarLinks }} FeedDetail  GET /api/feeds/{id} */
/**
 * @typedef {object} UploadResult  PUT /api/feeds/{id} with a calendar file
 * @property {Feed} [feed]
 * @property {boolean} [created]
 * @property {number} sessions
 * @property {boolean} [syncQueued]
 * @property {Array<{ uid?: string, line?: number, reason: string }>} [warnings]
 * @property {number} [warningsOmitted]  warnings beyond those listed (the answer lists at most 50)
 * @property {Array<{ uid: string, summary?: string, start: string, reason: string, detail: string }>} [skipped]
 * @property {number} [skippedOmitted]  skipped sessions beyond those listed
 * @property {Record<string, number>} [skippedByReason]
 * @property {CreationGuard | null} [creationGuard]
 */
/**
 * @typedef {object} Organizer  One row of GET /api/policies
 * @property {string | null} [email]
 * @property {string | null} [objectId]
 * @property {string} state
 * @property {string | null} [since]
 * @property {number} blockedSessions
 * @property {string | null} [reason]
 * @property {string | null} [grantCommand]
 */
/**
 * @typedef {object} Policies  GET /api/policies
 * @property {string} policyName
 * @property {{ grantedAt: string } | null} [global]
 * @property {Organizer[]} [organizers]
 */
/** @typedef {{ syncQueued?: boolean }} Queued  What the feed actions answer. */
/**
 * @typedef {object} PlanOperation  One planned (or held) change of GET/POST /api/feeds/{id}/plan
 * @property {string} kind  create, move, update, replace, cancel (a kind added later shows by its name)
 * @property {string} subject
 * @property {string} start
 * @property {string} [end]
 * @property {string} [organizerEmail]
 * @property {string} [reason]
 * @property {{ subject?: string, start?: string, end?: string }} [was]  what it was (move, update, replace)
 */
/**
 * @typedef {object} PlanView  GET /api/feeds/{id}/plan, or POST with a file (the preview)
 * @property {string} feedId
 * @property {Record<string, number>} counts
 * @property {Guard} guard
 * @property {CreationGuard | null} [creationGuard]
 * @property {PlanOperation[]} operations
 * @property {PlanOperation[]} held
 * @property {number} [unchanged]
 * @property {Array<{ uid: string, summary?: string, start: string, reason: string, detail: string }>} [skipped]
 * @property {number} [skippedOmitted]
 * @property {Array<{ email: string, reason: string }>} [blockedOrganizers]
 */
/**
 * @typedef {object} Problem  An application/problem+json body (RFC 9457) as the admin API writes it.
 * @property {unknown} [title]
 * @property {unknown} [detail]
 * @property {Array<{ path?: string, message?: string } | string>} [errors]  what failed validation
 * @property {string | number} [code]
 * @property {string} [graphRequestId]
 */

export {};
