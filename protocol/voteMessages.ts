// Every message between the extension host and the Test-Time Scaling view (webview/vote/). The
// report is a VoteReport (protocol/voteReport.ts) written by `reclab vote` in a trainer child
// process; the host reads the file and forwards it. Each side parses what it receives; anything
// else is rejected with a reason. Pure: no vscode, no DOM.
import { voteReportSchema, type VoteReport } from './voteReport';
import { checkedReport, isInt, isObj, isText, MAX_TEXT, need, onlyKeys, parseWith, Reject, type Parsed } from './messageGuards';

export const votePanelViewType = 'reclab.votePanel';

// ---- host -> webview ---------------------------------------------------------------------------
/** The vote is running for `target` (the runs, comma-separated). */
export interface VotingMessage { type: 'voting'; target: string }
export interface VoteFailedMessage { type: 'failed'; target: string; message: string }
export interface VoteReportMessage { type: 'report'; target: string; reportPath: string; report: VoteReport }
/** What the panel votes on, for the webview to keep in its state (a reload restores the panel from it). */
export interface VoteTargetMessage { type: 'target'; target: { runs: string[]; checkpoints: number } }
export type ToVoteMessage = VotingMessage | VoteFailedMessage | VoteReportMessage | VoteTargetMessage;

// ---- webview -> host ---------------------------------------------------------------------------
export interface VoteReadyMessage { type: 'ready' }
export interface VoteRerunMessage { type: 'rerun' }
export interface VoteOpenReportMessage { type: 'openReport' }
export type FromVoteMessage = VoteReadyMessage | VoteRerunMessage | VoteOpenReportMessage;

export type { Parsed };

/** The whole report, checked before the view touches it; a bad one is refused with the path of its first bad field. */
export function checkVoteReport(v: unknown): VoteReport {
  return checkedReport(voteReportSchema, v);
}

export function parseToVoteMessage(m: unknown): Parsed<ToVoteMessage> {
  return parseWith(m, (o, type): ToVoteMessage => {
    switch (type) {
      case 'voting':
        onlyKeys(o, ['type', 'target']);
        need(isText(o['target']), 'target is not a non-empty string');
        return { type, target: o['target'] };
      case 'failed':
        onlyKeys(o, ['type', 'target', 'message']);
        need(isText(o['target']), 'target is not a non-empty string');
        need(isText(o['message']), `message is not a string of 1 to ${MAX_TEXT} characters`);
        return { type, target: o['target'], message: o['message'] };
      case 'target': {
        onlyKeys(o, ['type', 'target']);
        const t = o['target'];
        need(isObj(t) && Array.isArray(t['runs']) && t['runs'].length > 0 && t['runs'].every((r) => isText(r)), 'target.runs is not a list of paths');
        need(isInt(t['checkpoints'], 1, 64), 'target.checkpoints is not an integer 1..64');
        return { type, target: { runs: t['runs'] as string[], checkpoints: t['checkpoints'] } };
      }
      case 'report':
        onlyKeys(o, ['type', 'target', 'reportPath', 'report']);
        need(isText(o['target']), 'target is not a non-empty string');
        need(isText(o['reportPath']), 'reportPath is not a non-empty string');
        return { type, target: o['target'], reportPath: o['reportPath'], report: checkVoteReport(o['report']) };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}

export function parseFromVoteMessage(m: unknown): Parsed<FromVoteMessage> {
  return parseWith(m, (o, type): FromVoteMessage => {
    switch (type) {
      case 'ready':
      case 'rerun':
      case 'openReport':
        onlyKeys(o, ['type']);
        return { type };
      default:
        throw new Reject(`unknown message type "${type}"`);
    }
  });
}
