// WebGL2 programs of the image and layer renderers: the one quad vertex shader they share, and
// compiling and linking a fragment shader against it.

/** The unit quad, placed on the canvas by `u_m`; `v_uv` runs 0..1 over the image. */
export const QUAD_VERT = `#version 300 es
in vec2 a_pos;
uniform mat3 u_m;
out vec2 v_uv;
void main() {
  v_uv = a_pos;
  vec3 p = u_m * vec3(a_pos, 1.0);
  gl_Position = vec4(p.xy, 0.0, 1.0);
}`;

export interface Program {
  prog: WebGLProgram;
  loc: Record<string, WebGLUniformLocation | null>;
}

function compile(gl: WebGL2RenderingContext, type: number, src: string, what: string): WebGLShader {
  const s = gl.createShader(type)!;
  gl.shaderSource(s, src);
  gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) {
    throw new Error(`${what} failed to compile: ${gl.getShaderInfoLog(s)}`);
  }
  return s;
}

/** Link `frag` with the quad vertex shader (attribute 0: `a_pos`) and look up `uniforms`. */
export function linkProgram(
  gl: WebGL2RenderingContext,
  frag: string,
  uniforms: readonly string[],
  what = "Shader",
): Program {
  const prog = gl.createProgram()!;
  gl.attachShader(prog, compile(gl, gl.VERTEX_SHADER, QUAD_VERT, what));
  gl.attachShader(prog, compile(gl, gl.FRAGMENT_SHADER, frag, what));
  gl.bindAttribLocation(prog, 0, "a_pos");
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) {
    throw new Error(`${what} failed to link: ${gl.getProgramInfoLog(prog)}`);
  }
  const loc: Program["loc"] = {};
  for (const n of uniforms) loc[n] = gl.getUniformLocation(prog, n);
  return { prog, loc };
}
