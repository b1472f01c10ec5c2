// The default 3D viewpoint, shared by the page (WebGL) and the exported pictures (CPU rasterizer), so a README
// picture looks like the page. World frame: z up, x from the arms' bases toward the bottle, y to the left arm.

/** Camera position (m). */
export const VIEW_POSITION: readonly [number, number, number] = [1.4, -1.1, 0.95];
/** Point the camera looks at (m). */
export const VIEW_TARGET: readonly [number, number, number] = [0.22, 0, 0.27];
/** Vertical field of view (degrees). */
export const VIEW_FOV = 40;
