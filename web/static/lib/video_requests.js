/* video_requests.js: the WHIP (RFC 9725) and WHEP requests, one home for the publisher
 * (broadcast.js) and the player (player.js).
 *
 *   var session = await offer(pc, url);  // POST the offer, apply the answer
 *   hangUp(session, pc);                 // DELETE the session, then close pc
 */

/* Sends pc's offer (no trickle: the server learns our address from our connectivity checks) and
 * applies the answer; resolves to the session's URL. fetch follows a 307 to the process that
 * hosts the stream, and Location is relative to it. Anything but a 201 rejects with an Error
 * carrying the HTTP status and the server's message. */
export async function offer(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  var response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/sdp" },
    body: pc.localDescription.sdp,
    credentials: "same-origin",
  });
  if (response.status !== 201) {
    var body = await response.json().catch(function () { return {}; });
    var error = new Error((body.error && body.error.message) || ("HTTP " + response.status));
    error.status = response.status;
    throw error;
  }
  var session = new URL(response.headers.get("Location"), response.url).toString();
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return session;
}

/* Ends the session first: closing the connection first ends it on the server, and the DELETE
 * would find nothing (404). */
export function hangUp(session, pc) {
  var ended = session
    ? fetch(session, { method: "DELETE", credentials: "same-origin", keepalive: true }).catch(function () {})
    : Promise.resolve();
  if (pc) ended.then(function () { pc.close(); });
}
