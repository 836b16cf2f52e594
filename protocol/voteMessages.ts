// Every message between the extension host and the Test-Time Scaling view (webview/vote/). The
// report is a VoteReport (protocol/voteReport.ts) written by `reclab vote` in a trainer child
// process; the host reads the file and forwards it. Each side parses what it receives; anything
// else is rejected with a reason. Pure: no vscode, no DOM.
import { voteReportSchema, type VoteReport } from './voteReport';
import { checkedReport, isInt, isObj, isText, need, onlyKeys, parseWith, type Parsed } from './messageGuards';
import { parseReportJobMessage, parseReportPanelRequest, type ReportJobMessage, type ReportPanelRequest } from './reportJobMessages';

export const votePanelViewType = 'reclab.votePanel';

// ---- host -> webview ---------------------------------------------------------------------------
/** What the panel votes on, for the webview to keep in its state (a reload restores the panel from it). */
export interface VoteTargetMessage { type: 'target'; target: { runs: string[]; checkpoints: number } }
/** 'voting' (for `target`, the runs comma-separated), 'failed', 'report', and the panel's target. */
export type ToVoteMessage = ReportJobMessage<'voting', VoteReport> | VoteTargetMessage;

// ---- webview -> host ---------------------------------------------------------------------------
export type FromVoteMessage = ReportPanelRequest;

export type { Parsed };

/** The whole report, checked before the view touches it; a bad one is refused with the path of its first bad field. */
export function checkVoteReport(v: unknown): VoteReport {
  return checkedReport(voteReportSchema, v);
}

export function parseToVoteMessage(m: unknown): Parsed<ToVoteMessage> {
  return parseWith(m, (o, type): ToVoteMessage => {
    const shared = parseReportJobMessage(o, type, 'voting', checkVoteReport);
    if (shared) return shared;
    need(type === 'target', `unknown message type "${type}"`);
    onlyKeys(o, ['type', 'target']);
    const t = o['target'];
    need(isObj(t) && Array.isArray(t['runs']) && t['runs'].length > 0 && t['runs'].every((r) => isText(r)), 'target.runs is not a list of paths');
    need(isInt(t['checkpoints'], 1, 64), 'target.checkpoints is not an integer 1..64');
    return { type, target: { runs: t['runs'] as string[], checkpoints: t['checkpoints'] } };
  });
}

export const parseFromVoteMessage: (m: unknown) => Parsed<FromVoteMessage> = parseReportPanelRequest;
