// WebGL2 renderer: grey samples live in an integer texture (R8/R16/R32, signed or not) and the
// fragment shader applies rescale, the DICOM linear window and inversion, so W/L changes are one
// uniform update and one draw. Pictures (colour, display PNGs) are an RGBA texture.

import type { FrameImage, GreyImage } from "../frames/image";
import { linkProgram, type Program } from "./gl-program";
import type { DrawParams, Renderer } from "./renderer";

const greyFrag = (sampler: "usampler2D" | "isampler2D") => `#version 300 es
precision highp float;
precision highp int;
precision highp ${sampler};
uniform ${sampler} u_tex;
uniform vec2 u_size;
uniform float u_slope;
uniform float u_intercept;
uniform float u_center;
uniform float u_width;
uniform bool u_invert;
in vec2 v_uv;
out vec4 o;
void main() {
  ivec2 p = ivec2(min(floor(v_uv * u_size), u_size - 1.0));
  float x = float(texelFetch(u_tex, p, 0).r) * u_slope + u_intercept;
  float y;
  if (u_width <= 1.0) {
    y = x > u_center - 0.5 ? 1.0 : 0.0;
  } else {
    y = clamp((x - (u_center - 0.5 - (u_width - 1.0) / 2.0)) / (u_width - 1.0), 0.0, 1.0);
  }
  y = floor(y * 255.0 + 0.5) / 255.0;
  if (u_invert) y = 1.0 - y;
  o = vec4(y, y, y, 1.0);
}`;

const PICTURE_FRAG = `#version 300 es
precision highp float;
uniform sampler2D u_tex;
uniform bool u_invert;
in vec2 v_uv;
out vec4 o;
void main() {
  vec4 c = texture(u_tex, v_uv);
  o = vec4(u_invert ? 1.0 - c.rgb : c.rgb, 1.0);
}`;

type ProgramKind = "u" | "i" | "rgba";

function textureFormat(gl: WebGL2RenderingContext, img: GreyImage): [number, number] {
  switch (img.bitsAllocated) {
    case 8:
      return img.signed ? [gl.R8I, gl.BYTE] : [gl.R8UI, gl.UNSIGNED_BYTE];
    case 16:
      return img.signed ? [gl.R16I, gl.SHORT] : [gl.R16UI, gl.UNSIGNED_SHORT];
    default:
      return img.signed ? [gl.R32I, gl.INT] : [gl.R32UI, gl.UNSIGNED_INT];
  }
}

export class WebGlRenderer implements Renderer {
  readonly kind = "webgl2" as const;
  private readonly programs = new Map<ProgramKind, Program>();
  private readonly texture: WebGLTexture;
  private readonly maxSize: number;
  private image: FrameImage | null = null;

  private constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly gl: WebGL2RenderingContext,
  ) {
    this.maxSize = gl.getParameter(gl.MAX_TEXTURE_SIZE) as number;
    const buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buf);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]), gl.STATIC_DRAW);
    this.texture = gl.createTexture()!;
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
  }

  /** A WebGL2 renderer on a new canvas, or null when WebGL2 is unavailable. */
  static create(): WebGlRenderer | null {
    const canvas = document.createElement("canvas");
    const gl = canvas.getContext("webgl2", { antialias: false, premultipliedAlpha: false });
    if (!gl) return null;
    try {
      return new WebGlRenderer(canvas, gl);
    } catch {
      return null;
    }
  }

  supports(img: FrameImage): boolean {
    return img.columns <= this.maxSize && img.rows <= this.maxSize;
  }

  private program(kind: ProgramKind): Program {
    const existing = this.programs.get(kind);
    if (existing) return existing;
    const gl = this.gl;
    const frag =
      kind === "rgba" ? PICTURE_FRAG : greyFrag(kind === "u" ? "usampler2D" : "isampler2D");
    const p = linkProgram(gl, frag, [
      "u_m",
      "u_tex",
      "u_size",
      "u_slope",
      "u_intercept",
      "u_center",
      "u_width",
      "u_invert",
    ]);
    this.programs.set(kind, p);
    return p;
  }

  setImage(img: FrameImage | null): void {
    this.image = img;
    if (!img) return;
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    if (img.kind === "grey") {
      const [internal, type] = textureFormat(gl, img);
      gl.texImage2D(
        gl.TEXTURE_2D,
        0,
        internal,
        img.columns,
        img.rows,
        0,
        gl.RED_INTEGER,
        type,
        img.samples,
      );
    } else {
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, gl.RGBA, gl.UNSIGNED_BYTE, img.bitmap);
    }
  }

  draw(p: DrawParams): void {
    const gl = this.gl;
    const img = this.image;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(0, 0, 0, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    if (!img) return;
    const kind: ProgramKind = img.kind === "picture" ? "rgba" : img.signed ? "i" : "u";
    const { prog, loc } = this.program(kind);
    gl.useProgram(prog);
    // a_pos (0..1) -> image pixels -> device pixels (affine) -> clip space.
    const W = this.canvas.width;
    const H = this.canvas.height;
    const t = p.transform;
    const sx = img.columns;
    const sy = img.rows;
    const m = new Float32Array([
      ((2 * t.a) / W) * sx,
      ((-2 * t.b) / H) * sx,
      0,
      ((2 * t.c) / W) * sy,
      ((-2 * t.d) / H) * sy,
      0,
      (2 * t.e) / W - 1,
      1 - (2 * t.f) / H,
      1,
    ]);
    gl.uniformMatrix3fv(loc.u_m!, false, m);
    gl.uniform1i(loc.u_tex!, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.texture);
    if (img.kind === "grey") {
      gl.uniform2f(loc.u_size!, img.columns, img.rows);
      gl.uniform1f(loc.u_slope!, img.slope);
      gl.uniform1f(loc.u_intercept!, img.intercept);
      gl.uniform1f(loc.u_center!, p.window.center);
      gl.uniform1f(loc.u_width!, p.window.width);
      gl.uniform1i(loc.u_invert!, img.monochrome1 !== p.invert ? 1 : 0);
    } else {
      gl.uniform1i(loc.u_invert!, p.invert ? 1 : 0);
    }
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
  }

  resize(width: number, height: number): void {
    this.canvas.width = width;
    this.canvas.height = height;
  }

  dispose(): void {
    this.gl.getExtension("WEBGL_lose_context")?.loseContext();
  }
}
