package ports

import (
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ticketing/ticketing/auth/app"
	"github.com/ticketing/ticketing/auth/domain"
	"github.com/ticketing/ticketing/pkg/apierr"
	"github.com/ticketing/ticketing/pkg/httpserver"
	"github.com/ticketing/ticketing/pkg/session"
)

var (
	errBadWebhookKey     = apierr.Unauthenticated("missing or wrong " + WebhookKeyHeader)
	errNoWebhookIdentity = apierr.Validation(apierr.Field("identity", "is required"))
)

type nameJSON struct {
	First string `json:"first,omitempty"`
	Last  string `json:"last,omitempty"`
}

type signUpRequest struct {
	Email    string    `json:"email"`
	Password string    `json:"password"`
	Name     *nameJSON `json:"name"`
}

type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type userRef struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

type signedInResponse struct {
	User  userRef `json:"user"`
	Token string  `json:"token"`
}

type userResponse struct {
	ID    string    `json:"id"`
	Email string    `json:"email"`
	Name  *nameJSON `json:"name,omitempty"`
}

// webhookRequest is the body of Kratos' after-registration web hook. Only
// the identity's id and traits are read; any other field Kratos adds is
// ignored, so that a richer payload never fails a registration.
type webhookRequest struct {
	Identity *session.KratosIdentity `json:"identity"`
}

// UnmarshalJSON decodes leniently, unlike the client-facing bodies.
func (w *webhookRequest) UnmarshalJSON(b []byte) error {
	type plain webhookRequest
	return json.Unmarshal(b, (*plain)(w))
}

func (h HTTPServer) signUp(c *gin.Context) {
	var req signUpRequest
	if err := httpserver.BindJSON(c, &req); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	cmd := app.SignUp{Email: req.Email, Password: req.Password, Address: c.ClientIP()}
	if req.Name != nil {
		cmd.FirstName, cmd.LastName = req.Name.First, req.Name.Last
	}
	signedIn, err := h.app.SignUp.Handle(c.Request.Context(), cmd)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusCreated, signedInBody(signedIn))
}

func (h HTTPServer) signIn(c *gin.Context) {
	var req signInRequest
	if err := httpserver.BindJSON(c, &req); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	signedIn, err := h.app.SignIn.Handle(c.Request.Context(), app.SignIn{Email: req.Email, Password: req.Password, Address: c.ClientIP()})
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, signedInBody(signedIn))
}

// signOut ends the caller's session in Kratos, then forgets it here; other
// services stop accepting it within their cache TTL (≤ 5 s). A browser's
// session cookie is cleared as well.
func (h HTTPServer) signOut(c *gin.Context) {
	s, _ := session.FromContext(c.Request.Context())
	cmd := app.SignOut{SessionID: s.ID}
	if !s.Credential.FromCookie() {
		cmd.Token = s.Credential.Token
	}
	if err := h.app.SignOut.Handle(c.Request.Context(), cmd); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	h.sessions.Forget(s.Credential)
	if s.Credential.FromCookie() {
		http.SetCookie(c.Writer, &http.Cookie{Name: session.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	}
	c.Status(http.StatusNoContent)
}

func (h HTTPServer) currentUser(c *gin.Context) {
	id, _ := session.IdentityFrom(c.Request.Context())
	q := app.CurrentUser{ID: id.ID, Email: id.Email}
	if id.Name != nil {
		q.FirstName, q.LastName = id.Name.First, id.Name.Last
	}
	u, err := h.app.CurrentUser.Handle(c.Request.Context(), q)
	if err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, userBody(u))
}

// onSignUp receives Kratos' after-registration web hook. Kratos has saved
// the identity already and turns any non-2xx answer into a 502 for the
// user, so recording a user twice succeeds.
func (h HTTPServer) onSignUp(c *gin.Context) {
	if !h.validWebhookKey(c.GetHeader(WebhookKeyHeader)) {
		httpserver.WriteError(c, errBadWebhookKey)
		return
	}
	var req webhookRequest
	if err := httpserver.BindJSON(c, &req); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	if req.Identity == nil {
		httpserver.WriteError(c, errNoWebhookIdentity)
		return
	}
	id := req.Identity.Identity()
	cmd := app.RecordSignedUpUser{ID: id.ID, Email: id.Email}
	if id.Name != nil {
		cmd.FirstName, cmd.LastName = id.Name.First, id.Name.Last
	}
	if err := h.app.RecordSignedUpUser.Handle(c.Request.Context(), cmd); err != nil {
		httpserver.WriteError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": id.ID})
}

func signedInBody(s app.SignedIn) signedInResponse {
	return signedInResponse{User: userRef{ID: s.User.ID(), Email: s.User.Email()}, Token: s.Token}
}

func userBody(u *domain.User) userResponse {
	body := userResponse{ID: u.ID(), Email: u.Email()}
	if n := u.Name(); !n.IsZero() {
		body.Name = &nameJSON{First: n.First, Last: n.Last}
	}
	return body
}
