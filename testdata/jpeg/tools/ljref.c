/*
 * ljref: development helper for the internal/jpeg fixtures (not used by CI).
 *
 *   ljref dec  < in.jpg  > out.pnm     decode with libjpeg defaults; writes
 *                                      P5 (gray), P6 (RGB) or "P4CMYK" (raw
 *                                      4-channel CMYK samples as libjpeg
 *                                      returns them, same header layout)
 *   ljref cmyk  Q W H < raw > out.jpg  encode raw CMYK samples (Adobe, transform 0)
 *   ljref ycck  Q W H < raw > out.jpg  encode raw CMYK samples as YCCK (Adobe, transform 2)
 *   ljref arith L U K PROG Q W H < raw > out.jpg
 *                                      encode raw RGB samples arithmetic-coded
 *                                      (4:2:0) with the DAC conditioning L, U
 *                                      (every DC table) and K (every AC table),
 *                                      progressive if PROG is 1; cjpeg
 *                                      -arithmetic only writes the defaults
 *                                      L=0 U=1 K=5
 *
 * Build: cc -O2 -o ljref ljref.c -ljpeg   (Debian: libjpeg62-turbo-dev)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

static int dec(void) {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  JSAMPROW row;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_decompress(&cinfo);
  jpeg_stdio_src(&cinfo, stdin);
  jpeg_read_header(&cinfo, TRUE);
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components == 1)
    printf("P5\n%u %u\n255\n", cinfo.output_width, cinfo.output_height);
  else if (cinfo.output_components == 3)
    printf("P6\n%u %u\n255\n", cinfo.output_width, cinfo.output_height);
  else
    printf("P4CMYK\n%u %u\n255\n", cinfo.output_width, cinfo.output_height);
  row = malloc((size_t)cinfo.output_width * cinfo.output_components);
  while (cinfo.output_scanline < cinfo.output_height) {
    jpeg_read_scanlines(&cinfo, &row, 1);
    fwrite(row, cinfo.output_components, cinfo.output_width, stdout);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return 0;
}

static int enc(int ycck, int q, int w, int h) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  JSAMPROW row = malloc((size_t)w * 4);
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, stdout);
  cinfo.image_width = w;
  cinfo.image_height = h;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, q, TRUE);
  if (ycck) {
    jpeg_set_colorspace(&cinfo, JCS_YCCK);
    cinfo.comp_info[1].h_samp_factor = cinfo.comp_info[1].v_samp_factor = 1;
    cinfo.comp_info[2].h_samp_factor = cinfo.comp_info[2].v_samp_factor = 1;
    cinfo.comp_info[0].h_samp_factor = cinfo.comp_info[0].v_samp_factor = 2;
    cinfo.comp_info[3].h_samp_factor = cinfo.comp_info[3].v_samp_factor = 2;
  }
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    if (fread(row, 4, w, stdin) != (size_t)w) return 1;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return 0;
}

static int arith(int l, int u, int k, int prog, int q, int w, int h) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  JSAMPROW row = malloc((size_t)w * 3);
  int i;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, stdout);
  cinfo.image_width = w;
  cinfo.image_height = h;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, q, TRUE);
  cinfo.arith_code = TRUE;
  for (i = 0; i < NUM_ARITH_TBLS; i++) {
    cinfo.arith_dc_L[i] = (UINT8)l;
    cinfo.arith_dc_U[i] = (UINT8)u;
    cinfo.arith_ac_K[i] = (UINT8)k;
  }
  if (prog) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    if (fread(row, 3, w, stdin) != (size_t)w) return 1;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "dec")) return dec();
  if (argc == 5 && (!strcmp(argv[1], "cmyk") || !strcmp(argv[1], "ycck")))
    return enc(!strcmp(argv[1], "ycck"), atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
  if (argc == 9 && !strcmp(argv[1], "arith"))
    return arith(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]),
                 atoi(argv[6]), atoi(argv[7]), atoi(argv[8]));
  fprintf(stderr, "usage: ljref dec | ljref cmyk|ycck Q W H | ljref arith L U K PROG Q W H\n");
  return 2;
}
