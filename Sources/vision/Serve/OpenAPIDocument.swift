// The OpenAPI 3 document served at /api/v1/openapi.json. Embedded in the binary
// (a copied binary needs no files beside it); docs/openapi.json is the same text,
// and ServeAPITests checks that the served bytes equal it.

enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.0.3",
  "info": {
    "title": "vision serve",
    "version": "1",
    "description": "Object detection over HTTP. POST /api/v1/predict answers the JSON object `vision predict` writes for one image. Every error is {\"error\": \"...\"}."
  },
  "paths": {
    "/api/v1/predict": {
      "post": {
        "summary": "Detect objects in one image",
        "parameters": [
          {
            "name": "model",
            "in": "query",
            "required": false,
            "schema": {"type": "string"},
            "description": "A loaded model's name (GET /api/v1/models); default: the first --checkpoint."
          },
          {
            "name": "min_prob",
            "in": "query",
            "required": false,
            "schema": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "description": "Keep objects with at least this probability."
          },
          {
            "name": "max_detections",
            "in": "query",
            "required": false,
            "schema": {"type": "integer", "minimum": 1, "default": 100},
            "description": "At most this many objects."
          },
          {
            "name": "only_class",
            "in": "query",
            "required": false,
            "schema": {"type": "array", "items": {"type": "string"}},
            "style": "form",
            "explode": true,
            "description": "Keep only these classes (names, case-insensitive, or ids; repeatable or comma-separated)."
          },
          {
            "name": "file",
            "in": "query",
            "required": false,
            "schema": {"type": "string", "default": "upload"},
            "description": "The \"file\" value of the answer for a raw body (a multipart upload uses its file name)."
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
              "schema": {
                "type": "object",
                "required": ["image"],
                "properties": {
                  "image": {"type": "string", "format": "binary"},
                  "model": {"type": "string"},
                  "min_prob": {"type": "number"},
                  "max_detections": {"type": "integer"},
                  "only_class": {"type": "string"}
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The detections, as one `vision predict` JSON line.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Prediction"}}}
          },
          "400": {
            "description": "Not a JPEG or PNG, a corrupt or truncated image, an image over --max-megapixels, a malformed form, or a bad option.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "404": {
            "description": "Unknown model.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "408": {
            "description": "The body did not arrive within --request-timeout.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "413": {
            "description": "The body exceeds --max-upload-mb.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "415": {
            "description": "A raw body whose Content-Type is not an image type or application/octet-stream.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          },
          "503": {
            "description": "Every worker is busy and the queue is full (or the server is stopping); retry after Retry-After seconds.",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
          }
        }
      }
    },
    "/api/v1/models": {
      "get": {
        "summary": "The loaded models",
        "responses": {
          "200": {
            "description": "Models, the default first.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": ["models"],
                  "properties": {"models": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}}
                }
              }
            }
          }
        }
      }
    },
    "/api/v1/openapi.json": {
      "get": {
        "summary": "This document",
        "responses": {
          "200": {"description": "OpenAPI 3 document.", "content": {"application/json": {"schema": {"type": "object"}}}}
        }
      }
    },
    "/healthz": {
      "get": {
        "summary": "Liveness",
        "responses": {
          "200": {
            "description": "The server answers.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "status": {"type": "string", "enum": ["ok"]},
                    "models": {"type": "integer"},
                    "queue_length": {"type": "integer"}
                  }
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "summary": "Prometheus metrics",
        "responses": {
          "200": {
            "description": "Text exposition format: vision_http_requests_total{endpoint,status}, vision_http_request_duration_seconds (histogram), vision_http_requests_in_flight, vision_detection_queue_length, vision_detection_workers_busy.",
            "content": {"text/plain": {"schema": {"type": "string"}}}
          }
        }
      }
    },
    "/": {
      "get": {
        "summary": "The web demo page",
        "responses": {"200": {"description": "HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}}
      }
    }
  },
  "components": {
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
      "Object": {
        "type": "object",
        "required": ["bbox", "label", "label_id", "prob"],
        "properties": {
          "bbox": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 4,
            "maxItems": 4,
            "description": "x1, y1, x2, y2 in original-image pixels."
          },
          "label": {"type": "string"},
          "label_id": {"type": "integer"},
          "prob": {"type": "number"}
        }
      },
      "Prediction": {
        "type": "object",
        "required": ["file", "objects"],
        "properties": {
          "file": {"type": "string"},
          "objects": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Object"},
            "description": "By prob, descending."
          }
        }
      },
      "Model": {
        "type": "object",
        "required": ["name", "architecture", "default", "classes"],
        "properties": {
          "name": {"type": "string"},
          "architecture": {"type": "string"},
          "default": {"type": "boolean"},
          "classes": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "color": {"type": "string", "description": "#rrggbb, as `vision predict -d` draws the class."}
              }
            }
          }
        }
      }
    }
  }
}

"""#
}
