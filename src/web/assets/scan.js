// Scanning a label three ways: the live camera, a photo shrunk on the device, or a scanner or keyboard typing.

import { call } from "./api.js";

/** Longest side, in pixels, a photo is shrunk to before it is sent. */
export const PHOTO_LONG_SIDE = 1600;
const JPEG_QUALITY = 0.75;
const FRAME_LONG_SIDE = 1280;
const FRAME_EVERY_MS = 500;

async function drawScaled(source, width, height, longSide) {
  const scale = Math.min(1, longSide / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  canvas.getContext("2d").drawImage(source, 0, 0, w, h);
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode failed"))), "image/jpeg", JPEG_QUALITY),
  );
}

/** A photo already this small (and no larger than 1600 px) is sent as it is: re-encoding would only lose detail. */
const SMALL_ENOUGH = 400 * 1024;
const SENDABLE = ["image/jpeg", "image/png", "image/webp"];

/** Shrinks a camera photo on the device: long side at most 1600 px, JPEG, upright. */
export async function shrinkPhoto(file) {
  if (window.createImageBitmap) {
    const bmp = await createImageBitmap(file, { imageOrientation: "from-image" });
    try {
      if (file.size <= SMALL_ENOUGH && SENDABLE.includes(file.type) && Math.max(bmp.width, bmp.height) <= PHOTO_LONG_SIDE) {
        return file;
      }
      return await drawScaled(bmp, bmp.width, bmp.height, PHOTO_LONG_SIDE);
    } finally {
      bmp.close();
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return await drawScaled(img, img.naturalWidth, img.naturalHeight, PHOTO_LONG_SIDE);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Sends a typed or scanned code; resolves to the scan result (customer card). */
export async function scanCode(code) {
  return (await call("POST", "/scans", { body: { code } })).data;
}

/** Sends a photo (already shrunk) as multipart, a live viewfinder's frame marked so (the server tries only its cheap
 * passes: the next frame follows); resolves to the scan result. */
export async function scanPhoto(blob, { viewfinder = false } = {}) {
  const form = new FormData();
  form.append("photo", blob, "label.jpg");
  return (await call("POST", viewfinder ? "/scans?viewfinder=true" : "/scans", { body: form, timeoutMs: 30000 })).data;
}

/** A short tone and vibration so a scan is noticed without looking. */
export function feedback(ok) {
  try {
    if (navigator.vibrate) navigator.vibrate(ok ? 60 : [80, 60, 80]);
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = ok ? 1320 : 330;
    gain.gain.value = 0.08;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + (ok ? 0.09 : 0.25));
    osc.onended = () => ctx.close();
  } catch {
    /* sound is a nicety */
  }
}

/** Whether the browser decodes barcodes itself (Chrome on Android, ChromeOS, macOS). */
export function hasDetector() {
  return "BarcodeDetector" in window;
}

/**
 * Runs the live viewfinder in `video` until a label is read: with BarcodeDetector on the device, else by
 * sending a shrunk frame to the server every half second. `onResult` gets the scan result; `onTry` is told of
 * every attempt. Returns a function that stops the camera.
 */
export async function startViewfinder(video, { onResult, onError, onTry }) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: { ideal: "environment" }, width: { ideal: 1920 }, height: { ideal: 1080 } },
    audio: false,
  });
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  video.muted = true;
  await video.play();
  let stopped = false;
  let busy = false;
  const stop = () => {
    stopped = true;
    for (const t of stream.getTracks()) t.stop();
    video.srcObject = null;
  };
  const detector = hasDetector()
    ? new window.BarcodeDetector({ formats: ["qr_code", "code_128", "data_matrix"] })
    : null;
  const tick = async () => {
    if (stopped) return;
    if (!busy && video.videoWidth > 0) {
      busy = true;
      try {
        let result = null;
        if (detector) {
          const codes = await detector.detect(video);
          for (const c of codes) {
            try {
              result = await scanCode(c.rawValue);
              break;
            } catch (e) {
              if (e.status !== 422 && e.status !== 404) throw e;
            }
          }
        } else {
          const frame = await drawScaled(video, video.videoWidth, video.videoHeight, FRAME_LONG_SIDE);
          if (onTry) onTry(frame.size);
          try {
            result = await scanPhoto(frame, { viewfinder: true });
          } catch (e) {
            if (e.status !== 422) throw e;
          }
        }
        if (result && !stopped) {
          stop();
          onResult(result);
          return;
        }
      } catch (e) {
        if (!stopped) {
          stop();
          onError(e);
          return;
        }
      } finally {
        busy = false;
      }
    }
    setTimeout(tick, detector ? 150 : FRAME_EVERY_MS);
  };
  tick();
  return stop;
}
