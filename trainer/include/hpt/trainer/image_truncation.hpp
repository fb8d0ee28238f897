#pragma once
// Cut-off image files that stb_image decodes anyway: for BMP, TGA and binary PNM it fills the
// missing pixels with whatever it has, and for GIF it stops at the end of the data. A
// truncated download of such a dataset would train on images that are partly zeros.

#include <string>
#include <string_view>

namespace hpt::trainer {

// Why the encoded bytes of the image file at path are cut short ("" when they are whole, or
// are a format decoded strictly, such as PNG and JPEG): "127 of 3126 bytes: its header needs
// 3126". The format comes from the bytes (BMP's "BM", GIF's "GIF8", PNM's "P5"/"P6"), or for
// TGA, which has no signature, from path's extension.
std::string image_truncation_problem(std::string_view bytes, const std::string& path);

}  // namespace hpt::trainer
