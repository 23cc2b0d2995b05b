package registrytest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
)

// Page is what a simulated browser ended on.
type Page struct {
	Status int
	URL    *url.URL // the final URL (e.g. the Hall's callback with code and state)
	Body   string
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
)

// Browse plays the user's browser on this registry's authorize page: it opens
// authURL, submits the form with "Authorize" (approve) or "Deny", and follows
// the redirects back to the redirect_uri with client (nil: a default client,
// which follows redirects). A client that stops at redirects returns the 303.
func Browse(client *http.Client, authURL string, approve bool) (Page, error) {
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Get(authURL)
	if err != nil {
		return Page{}, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return Page{}, err
	}
	am := actionRE.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || am == nil {
		return Page{Status: resp.StatusCode, URL: resp.Request.URL, Body: string(body)}, fmt.Errorf("authorize page: HTTP %d without a form", resp.StatusCode)
	}
	form := url.Values{"decision": {"deny"}}
	if approve {
		form.Set("decision", "approve")
	}
	for _, m := range hiddenRE.FindAllSubmatch(body, -1) {
		form.Set(html.UnescapeString(string(m[1])), html.UnescapeString(string(m[2])))
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(string(am[1])))
	if err != nil {
		return Page{}, err
	}
	resp, err = client.PostForm(action.String(), form)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	if err != nil {
		return Page{}, err
	}
	final := resp.Request.URL
	if loc, lerr := resp.Location(); lerr == nil {
		final = loc
	}
	return Page{Status: resp.StatusCode, URL: final, Body: string(body)}, nil
}
